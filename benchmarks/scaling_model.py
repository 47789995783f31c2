#!/usr/bin/env python3
"""The scaling model of data-parallel training (docs/distributed.md): weak scaling, each
machine keeping its batch, one ring all-reduce of the gradient buffer a step, taken as not
hidden behind backward (a lower bound on the efficiency; the overlap hides part of it).

  all-reduce time  t(R) = 2 (R - 1) / R * G / bandwidth + 2 (R - 1) * latency
  efficiency       E(R) = C / (C + t(R))

G is the gradient bytes (4 x parameters), C the measured compute per step of one machine.
Prints the Markdown tables and writes the plot (SVG, plain Python) to the given file.
  scaling_model.py OUT.svg NAME:PARAMETERS:SECONDS_PER_STEP:BATCH ... [--latency-us 25]
  [--measured SPEEDUP --local-seconds C --local-average-seconds T]  (the 2-rank run here)
"""
import argparse
import math

parser = argparse.ArgumentParser()
parser.add_argument("svg")
parser.add_argument("networks", nargs="+", help="name:parameters:seconds_per_step:batch")
parser.add_argument("--latency-us", type=float, default=25.0)
parser.add_argument("--measured", type=float, help="measured 2 ranks / 1 rank speed-up on this machine")
parser.add_argument("--local-seconds", type=float, help="1 rank x 1 thread step time here at the global batch")
parser.add_argument("--local-average-seconds", type=float, help="measured gradient average a step here, 2 ranks")
args = parser.parse_args()

bandwidths = [10e9, 25e9, 100e9]  # bits per second
ranks = [2, 4, 8, 16, 32, 64]
latency = args.latency_us * 1e-6


def allreduce(gradient_bytes, r, bits_per_second):
    return 2 * (r - 1) / r * gradient_bytes * 8 / bits_per_second + 2 * (r - 1) * latency


nets = []
for spec in args.networks:
    name, params, seconds, batch = spec.split(":")
    nets.append((name, int(params), float(seconds), int(batch)))

print("| network | parameters | gradient MB | compute s/step (batch) | all-reduce ms at 64 machines, 10 / 25 / 100 Gb/s |")
print("|---|---|---|---|---|")
for name, params, seconds, batch in nets:
    g = 4 * params
    times = " / ".join(f"{1e3 * allreduce(g, 64, b):.1f}" for b in bandwidths)
    print(f"| {name} | {params:,} | {g / 1e6:.2f} | {seconds:.3f} ({batch}) | {times} |")
print()
print("| network | Gb/s | " + " | ".join(f"{r} machines" for r in ranks) + " |")
print("|---|---|" + "---|" * len(ranks))
curves = []
for name, params, seconds, batch in nets:
    for b in bandwidths:
        e = [seconds / (seconds + allreduce(4 * params, r, b)) for r in ranks]
        curves.append((f"{name}, {b / 1e9:.0f} Gb/s", e))
        print(f"| {name} | {b / 1e9:.0f} | " + " | ".join(f"{100 * x:.1f}%" for x in e) + " |")
if args.measured and args.local_seconds and args.local_average_seconds:
    half = args.local_seconds / 2  # each of 2 ranks computes half the batch
    predicted = 2 * half / (half + args.local_average_seconds)
    print(f"\nthis machine, 2 ranks over shared memory: predicted {predicted:.2f}x "
          f"(compute {1e3 * half:.1f} ms a rank, average {1e3 * args.local_average_seconds:.2f} ms not hidden), "
          f"measured {args.measured:.2f}x")

# The plot: efficiency against machines (log2), one line per network and bandwidth.
w, h, left, right, top, bottom = 720, 420, 60, 250, 20, 45
colours = ["#1f77b4", "#d62728", "#2ca02c"]
dashes = ["", "6,3", "2,2"]
lo = min(min(e) for _, e in curves)
lo = max(0.0, math.floor(lo * 10) / 10 - 0.1)


def x(r):
    return left + (math.log2(r) - 1) / (math.log2(ranks[-1]) - 1) * (w - left - right)


def y(e):
    return top + (1 - (e - lo) / (1 - lo)) * (h - top - bottom)


out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
       f'<rect width="{w}" height="{h}" fill="white"/>']
for r in ranks:
    out.append(f'<line x1="{x(r):.1f}" y1="{top}" x2="{x(r):.1f}" y2="{h - bottom}" stroke="#ddd"/>')
    out.append(f'<text x="{x(r):.1f}" y="{h - bottom + 16}" text-anchor="middle">{r}</text>')
steps = 5
for k in range(steps + 1):
    e = lo + (1 - lo) * k / steps
    out.append(f'<line x1="{left}" y1="{y(e):.1f}" x2="{w - right}" y2="{y(e):.1f}" stroke="#ddd"/>')
    out.append(f'<text x="{left - 6}" y="{y(e) + 4:.1f}" text-anchor="end">{100 * e:.0f}%</text>')
out.append(f'<text x="{(left + w - right) / 2}" y="{h - 8}" text-anchor="middle">machines</text>')
out.append(f'<text x="14" y="{(top + h - bottom) / 2}" transform="rotate(-90 14 {(top + h - bottom) / 2})" '
           f'text-anchor="middle">predicted efficiency</text>')
for i, (label, e) in enumerate(curves):
    colour, dash = colours[i // len(bandwidths) % len(colours)], dashes[i % len(bandwidths)]
    points = " ".join(f"{x(r):.1f},{y(v):.1f}" for r, v in zip(ranks, e))
    out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>')
    ly = top + 10 + 18 * i
    out.append(f'<line x1="{w - right + 12}" y1="{ly}" x2="{w - right + 42}" y2="{ly}" stroke="{colour}" '
               f'stroke-width="2" stroke-dasharray="{dash}"/>')
    out.append(f'<text x="{w - right + 48}" y="{ly + 4}">{label}</text>')
out.append("</svg>")
with open(args.svg, "w") as f:
    f.write("\n".join(out) + "\n")
