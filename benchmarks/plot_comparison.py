#!/usr/bin/env python3
"""Reads the logs of benchmarks/compare_rules.sh (a folder), prints the comparison table as
Markdown and writes comparison.svg there: test accuracy per epoch of each rule, and the
converted SNN's accuracy against T. Plain Python, no plotting library needed."""
import glob
import math
import os
import re
import sys


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ''


def peak_rss_mib(folder, name):
    m = re.search(r'Maximum resident set size \(kbytes\): (\d+)', read(os.path.join(folder, name + '.time')))
    return int(m.group(1)) / 1024.0 if m else float('nan')


def parse_run(folder, name):
    log = read(os.path.join(folder, name + '.log'))
    if not log:
        return None
    run = {'name': name, 'epochs': [], 'conversion': [], 'rss': peak_rss_mib(folder, name)}
    for line in log.splitlines():
        if line.startswith('epoch '):
            f = line.split()
            run['epochs'].append((int(f[1]), float(f[f.index('test_accuracy') + 1]),
                                  float(f[f.index('images_per_second') + 1])))
        elif line.startswith('result '):
            run['result'] = dict(kv.split('=') for kv in line.split()[1:])
        elif line.startswith('conversion '):
            kv = dict(x.split('=') for x in line.split()[1:])
            run['conversion'].append((int(kv['T']), float(kv['accuracy']), float(kv['spikes_per_image'])))
        elif line.startswith('ann accuracy='):
            run['ann_accuracy'] = float(line.split()[1].split('=')[1])
            run['ann_levels'] = int(line.split()[2].split('=')[1])
        elif line.startswith('ann_levels '):
            run['ann_by_levels'] = [(int(k[1:]), float(v)) for k, v in (x.split('=') for x in line.split()[1:])]
    return run


def peer_speed(folder, name):
    log = read(os.path.join(folder, name + '.log'))
    m = re.search(r'\(([0-9.]+) img/s\)', log)
    return (float(m.group(1)) if m else float('nan')), peak_rss_mib(folder, name)


def ours_speed(folder, name):
    r = parse_run(folder, name)
    return (r['epochs'][0][2] if r and r['epochs'] else float('nan')), peak_rss_mib(folder, name)


def svg(folder, runs, conversion, ann_accuracy):
    w, h, pad = 980, 400, 60
    panel = (w - 3 * pad) / 2
    colors = {'snn2ann_T4': '#1f77b4', 'snn2ann_T5': '#17becf', 'bptt_T4': '#d62728', 'bptt_T8': '#ff7f0e',
              'ann2snn_T8': '#2ca02c', 'snn2ann_T5_defaults': '#9467bd'}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>']
    # Each panel has its own accuracy range (conversion at T = 1 is far below the rest).
    def span(values):
        if not values:
            return 0.8, 1.0
        return math.floor(min(values) * 50) / 50, min(1.0, math.ceil(max(values) * 50) / 50)

    lo, hi = span([a for r in runs for _, a, _ in r['epochs']])

    def axes(x0, title, xlabel, xticks):
        out.append(f'<text x="{x0 + panel / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>')
        out.append(f'<rect x="{x0}" y="{pad - 20}" width="{panel}" height="{h - 2 * pad}" fill="none" stroke="black"/>')
        for i in range(6):
            v = lo + (hi - lo) * i / 5
            y = ypos(v)
            out.append(f'<line x1="{x0}" y1="{y}" x2="{x0 + panel}" y2="{y}" stroke="#ddd"/>')
            out.append(f'<text x="{x0 - 5}" y="{y + 4}" text-anchor="end">{100 * v:.1f}</text>')
        for x, label in xticks:
            out.append(f'<text x="{x}" y="{h - pad + 35}" text-anchor="middle">{label}</text>')
        out.append(f'<text x="{x0 + panel / 2}" y="{h - 8}" text-anchor="middle">{xlabel}</text>')

    def ypos(v):
        return pad - 20 + (h - 2 * pad) * (1 - (v - lo) / (hi - lo if hi > lo else 1))

    # Left: accuracy per epoch.
    n = max((len(r['epochs']) for r in runs), default=1)
    xe = lambda e: pad + panel * (e - 0.5) / n
    axes(pad, 'Test accuracy (%) per epoch', 'epoch', [(xe(e), e) for e in range(1, n + 1)])
    for i, r in enumerate(runs):
        pts = ' '.join(f'{xe(e):.1f},{ypos(a):.1f}' for e, a, _ in r['epochs'])
        c = colors.get(r['name'], '#555')
        out.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="2"/>')
        out.append(f'<text x="{pad + 10}" y="{pad + 15 * i}" fill="{c}">{r["name"].replace("_", " ")}</text>')
    # Right: conversion accuracy against T (log scale).
    lo, hi = span([a for _, a, _ in conversion] + ([ann_accuracy] if ann_accuracy is not None else []))
    x1 = 2 * pad + panel
    ts = [t for t, _, _ in conversion] or [1]
    lmax = math.log2(max(ts)) or 1
    xt = lambda t: x1 + panel * (0.05 + 0.9 * math.log2(t) / lmax)
    axes(x1, 'ANN-to-SNN (QCFS): accuracy (%) against T', 'time steps T', [(xt(t), t) for t in ts])
    pts = ' '.join(f'{xt(t):.1f},{ypos(max(a, lo)):.1f}' for t, a, _ in conversion)
    out.append(f'<polyline points="{pts}" fill="none" stroke="#2ca02c" stroke-width="2"/>')
    for t, a, _ in conversion:
        if a >= lo:
            out.append(f'<circle cx="{xt(t):.1f}" cy="{ypos(a):.1f}" r="3" fill="#2ca02c"/>')
    if ann_accuracy is not None:
        y = ypos(ann_accuracy)
        out.append(f'<line x1="{x1}" y1="{y}" x2="{x1 + panel}" y2="{y}" stroke="black" stroke-dasharray="5,4"/>')
        out.append(f'<text x="{x1 + panel - 5}" y="{y - 5}" text-anchor="end">ANN (QCFS) {100 * ann_accuracy:.2f}</text>')
    out.append('</svg>')
    with open(os.path.join(folder, 'comparison.svg'), 'w') as f:
        f.write('\n'.join(out) + '\n')


def seeds_line(folder, by):
    """SNN2ANN T = 5 against BPTT T = 8 over every seed run (seed 1 and the *_seed<n> logs)."""
    pairs = []
    if 'snn2ann_T5' in by and 'bptt_T8' in by:
        pairs.append((1, by['snn2ann_T5']['result'], by['bptt_T8']['result']))
    for path in sorted(glob.glob(os.path.join(folder, 'snn2ann_T5_seed*.log'))):
        seed = path.rsplit('seed', 1)[1][:-4]
        a, b = parse_run(folder, f'snn2ann_T5_seed{seed}'), parse_run(folder, f'bptt_T8_seed{seed}')
        if a and b and 'result' in a and 'result' in b:
            pairs.append((int(seed), a['result'], b['result']))
    if len(pairs) < 2:
        return
    acc = lambda r: 100 * float(r['accuracy'])
    diffs = [acc(a) - acc(b) for _, a, b in pairs]
    mean = lambda v: sum(v) / len(v)
    sd = lambda v: math.sqrt(sum((x - mean(v)) ** 2 for x in v) / (len(v) - 1))
    ours, theirs = [acc(a) for _, a, _ in pairs], [acc(b) for _, _, b in pairs]
    print(f"SNN2ANN T = 5 / BPTT T = 8 over seeds {', '.join(str(s) for s, _, _ in pairs)}: SNN2ANN "
          f"{mean(ours):.2f}% (sd {sd(ours):.2f}), BPTT {mean(theirs):.2f}% (sd {sd(theirs):.2f}), accuracy "
          f"{mean(diffs):+.2f} pp on average (per seed: {', '.join(f'{d:+.2f}' for d in diffs)}); "
          f"time {mean([float(a['sec_per_epoch']) / float(b['sec_per_epoch']) for _, a, b in pairs]):.3f}x, "
          f"spikes {mean([float(a['spikes_per_image']) / float(b['spikes_per_image']) for _, a, b in pairs]):.3f}x")


def conversion_seeds_line(folder, by):
    """The converted SNN at T = 8 against its ANN over every seed run (ann2snn_T8[_seed<n>])."""
    runs = [(1, by.get('ann2snn_T8'))] + [
        (int(p.rsplit('seed', 1)[1][:-4]), parse_run(folder, os.path.basename(p)[:-4]))
        for p in sorted(glob.glob(os.path.join(folder, 'ann2snn_T8_seed*.log')))]
    gaps = [(seed, 100 * (float(r['result']['accuracy']) - r['ann_accuracy']))
            for seed, r in runs if r and 'result' in r and 'ann_accuracy' in r]
    if len(gaps) < 2:
        return
    print(f"ANN-to-SNN, converted T = 8 against its ANN over seeds {', '.join(str(s) for s, _ in gaps)}: "
          f"{sum(g for _, g in gaps) / len(gaps):+.2f} pp on average (per seed: "
          f"{', '.join(f'{g:+.2f}' for _, g in gaps)}; worst {min(g for _, g in gaps):+.2f})")


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else 'build/comparison'
    names = ['snn2ann_T4', 'bptt_T4', 'snn2ann_T5', 'bptt_T8', 'ann2snn_T8', 'snn2ann_T5_defaults']
    runs = [r for r in (parse_run(folder, n) for n in names) if r and 'result' in r]
    by = {r['name']: r for r in runs}
    options = re.search(r'^# snn2ann options: (.*)$', read(os.path.join(folder, 'snn2ann_T5.log')), re.M)
    if options:
        print(f'SNN2ANN options: {options.group(1)}\n')
    print('| run | T | test accuracy | s / epoch | peak RSS MiB | workspace peak MiB | spikes / image | SOPs / image | energy uJ (ANN) |')
    print('|---|---|---|---|---|---|---|---|---|')
    for r in runs:
        x = r['result']
        rule = x['rule'] + (' (docs/method.md defaults)' if r['name'].endswith('_defaults') else '')
        print(f"| {rule} | {x['T']} | {100 * float(x['accuracy']):.2f}% | {float(x['sec_per_epoch']):.1f} | "
              f"{r['rss']:.0f} | {float(x['workspace_peak_MiB']):.1f} | {float(x['spikes_per_image']):.0f} | "
              f"{float(x['sops']):.3g} | {float(x['snn_energy_uJ']):.2f} ({float(x['ann_energy_uJ']):.2f}) |")
    print()
    for a, b, label in (('snn2ann_T4', 'bptt_T4', 'equal T = 4'), ('snn2ann_T5', 'bptt_T8', 'SNN2ANN T = 5 / BPTT T = 8')):
        if a in by and b in by:
            ra, rb = by[a]['result'], by[b]['result']
            ratio = lambda k: float(ra[k]) / float(rb[k])
            print(f"SNN2ANN / BPTT, {label}: accuracy {100 * (float(ra['accuracy']) - float(rb['accuracy'])):+.2f} pp, "
                  f"time {ratio('sec_per_epoch'):.3f}x, peak RSS {by[a]['rss'] / by[b]['rss']:.3f}x, "
                  f"workspace {ratio('workspace_peak_MiB'):.3f}x, spikes {ratio('spikes_per_image'):.3f}x "
                  f"(paper: 0.377x time, 0.27x memory, 0.33x spikes)")
    seeds_line(folder, by)
    conv = by.get('ann2snn_T8', {})
    if conv.get('conversion'):
        print()
        print(f"ANN-to-SNN (QCFS ANN, L = {conv.get('ann_levels', '?')}, {100 * conv.get('ann_accuracy', float('nan')):.2f}%): " +
              ', '.join(f'T={t} {100 * a:.2f}% ({s:.0f} spikes)' for t, a, s in conv['conversion']))
        if conv.get('ann_by_levels'):
            print('The same ANN evaluated with L levels: ' +
                  ', '.join(f'L={l} {100 * a:.2f}%' for l, a in conv['ann_by_levels']))
        conversion_seeds_line(folder, by)
    for T in (4, 8):
        ours, ours_rss = ours_speed(folder, f'speed_ours_T{T}')
        peer, peer_rss = peer_speed(folder, f'speed_peer_T{T}')
        if not math.isnan(peer):
            print(f'BPTT T = {T}, same images: ours {ours:.0f} img/s ({ours_rss:.0f} MiB), PyTorch peer {peer:.0f} img/s '
                  f'({peer_rss:.0f} MiB): {ours / peer:.2f}x faster, memory {ours_rss / peer_rss:.2f}x')
    svg(folder, runs, conv.get('conversion', []), conv.get('ann_accuracy'))
    print(f"\nfigure: {os.path.join(folder, 'comparison.svg')}")


if __name__ == '__main__':
    main()
