"""The field's layer benchmark (Open Neuromorphic's "SNN library benchmarks") in PyTorch:
one Linear(n, n) and one LIF layer, batch 16, T = 500 steps of torch.rand input, the time
of a forward plus output.sum().backward(), and the memory it takes; the PyTorch side of
layer_benchmark.sh, run through peer/run_torch.sh.

Two ways the field writes that layer:
  --style snntorch      as snnTorch's Leaky runs: a Python loop over T, each step the
                        linear on that step's input, then the neuron (its reset computed
                        from the previous membrane, detached);
  --style spikingjelly  as SpikingJelly's multi-step torch backend runs: the linear over
                        all T x B inputs at once, then the neuron's Python loop over T.
The neuron is the one layer_benchmark.cpp runs, the same arithmetic: V = 0.5 U + I
(tau 2), spike where V > 1, reset by subtraction detached from the graph, the sigmoid
surrogate with alpha 4.

Prints the median seconds of --repeat passes after one warm-up, the firing rate, the peak
RSS and the RSS the passes added (the peak less what the process held before the first
pass, input included), in the format layer_benchmark prints.
"""
import argparse
import os
import resource
import time

import torch

T = 500
BATCH = 16


class Spike(torch.autograd.Function):
    """Heaviside forward; the derivative of sigmoid(4 x) backward."""

    @staticmethod
    def forward(ctx, v_minus_threshold):
        ctx.save_for_backward(v_minus_threshold)
        return (v_minus_threshold > 0).to(v_minus_threshold.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(4.0 * x)
        return grad * 4.0 * s * (1.0 - s)


def snntorch_style(lin, x):
    mem = torch.zeros(x.shape[1], x.shape[2])
    spikes = []
    for t in range(x.shape[0]):
        reset = (mem - 1.0 > 0).to(mem.dtype).detach()  # the previous step's spike
        mem = 0.5 * (mem - reset) + lin(x[t])
        spikes.append(Spike.apply(mem - 1.0))
    return torch.stack(spikes)


def spikingjelly_style(lin, x):
    steps, batch, n = x.shape
    current = lin(x.flatten(0, 1)).view(steps, batch, n)  # the linear over all T x B at once
    v = torch.zeros(batch, n)
    spikes = []
    # unbind: one backward node for all steps; indexing current[t] (SpikingJelly's code)
    # gives each step's gradient the size of all T steps, 2.0 s against 1.2 at n = 1024.
    for step_current in current.unbind(0):
        h = 0.5 * v + step_current
        spike = Spike.apply(h - 1.0)
        v = h - spike.detach()
        spikes.append(spike)
    return torch.stack(spikes)


def resident_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1024.0 * 1024.0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, choices=[256, 1024, 4096], default=256)
    p.add_argument("--style", choices=["snntorch", "spikingjelly"], default="snntorch")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    lin = torch.nn.Linear(a.n, a.n)
    x = torch.rand(T, BATCH, a.n)
    run = snntorch_style if a.style == "snntorch" else spikingjelly_style
    before = resident_mib()
    seconds = []
    rate = 0.0
    for r in range(a.repeat + 1):
        lin.zero_grad(set_to_none=True)
        t0 = time.perf_counter()
        out = run(lin, x)
        out.sum().backward()
        dt = time.perf_counter() - t0
        if r > 0:
            seconds.append(dt)
        rate = out.mean().item()
        del out
    seconds.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"torch {a.style} n {a.n} batch {BATCH} T {T} threads {a.threads}: median_s {seconds[len(seconds) // 2]:.4f} "
          f"firing_rate {rate:.4f} peak_rss_MiB {peak:.1f} passes_rss_MiB {peak - before:.1f}")


if __name__ == "__main__":
    main()
