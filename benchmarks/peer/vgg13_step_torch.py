#!/usr/bin/env python3
"""PyTorch peer of benchmarks/cuda_benchmark.cu: one multi-step BPTT training step of the
paper's VGG-13 (snn2ann::zoo::vgg13<10>) on CIFAR-shaped random data on the GPU.

conv3x3(pad 1, bias)-BN-[2x2 max pool in the last conv of blocks 3-5]-[dropout 0.25 in
blocks 1-2]-IF, channels 64,64 | 128,128 | 256x3 | 512x3 | 512x3, head Linear(4*4*512, 10)
on every step, loss on the mean over T. The IF layer is bptt_torch.py's IFMulti (reset by
subtraction, threshold 1, surrogate gradient); stateless layers run on the T*B tensor (BN
over T*B, as SpikingJelly's multi-step mode); the first conv+BN runs once (static input).
Tuned as run_peer.sh tunes the CPU peer: cudnn.benchmark on; fp32 (TF32 off) unless --tf32,
to compare with the library's fp32 GEMMs.
Prints the median seconds per step after warm-up and torch.cuda.max_memory_allocated.
"""
import argparse, os, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptt_torch import IFMulti  # noqa: E402

PLAN = [(64, False, True), (64, False, True), (128, False, True), (128, False, True),
        (256, False, False), (256, False, False), (256, True, False),
        (512, False, False), (512, False, False), (512, True, False),
        (512, False, False), (512, False, False), (512, True, False)]


class VGG13(nn.Module):
    def __init__(self, T, surrogate, alpha, detach_reset):
        super().__init__()
        self.T = T
        convs, bns, sns = [], [], []
        c_in = 3
        for c, _, _ in PLAN:
            convs.append(nn.Conv2d(c_in, c, 3, padding=1))
            bns.append(nn.BatchNorm2d(c))
            sns.append(IFMulti(T, surrogate, alpha, detach_reset=detach_reset))
            c_in = c
        self.convs, self.bns, self.sns = nn.ModuleList(convs), nn.ModuleList(bns), nn.ModuleList(sns)
        self.fc = nn.Linear(4 * 4 * 512, 10)

    def forward(self, x):
        B, T = x.shape[0], self.T
        h = x
        for i, (c, pool, drop) in enumerate(PLAN):
            h = self.bns[i](self.convs[i](h))
            if pool:
                h = F.max_pool2d(h, 2)
            if drop:
                h = F.dropout(h, 0.25, self.training)
            if i == 0:  # static input: the first layer's current is the same at every step
                h = h.unsqueeze(0).expand(T, *h.shape).reshape(T * B, *h.shape[1:])
            h = self.sns[i](h)
        out = self.fc(h.flatten(1))
        return out.view(T, B, -1).mean(0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--T', type=int, default=8)
    p.add_argument('--repeat', type=int, default=5)
    p.add_argument('--surrogate', default='sigmoid', choices=['rect', 'sigmoid', 'atan'])
    p.add_argument('--alpha', type=float, default=4.0)
    p.add_argument('--detach-reset', action='store_true')
    p.add_argument('--tf32', action='store_true')
    a = p.parse_args()
    if not torch.cuda.is_available():
        print('vgg13_step_torch: no CUDA device; skipped')
        return 0
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    torch.backends.cudnn.allow_tf32 = a.tf32
    torch.manual_seed(1)
    dev = torch.device('cuda')
    net = VGG13(a.T, a.surrogate, a.alpha, a.detach_reset).to(dev).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.rand(a.batch, 3, 32, 32, device=dev) * 2 - 1
    y = torch.arange(a.batch, device=dev) % 10
    torch.cuda.reset_peak_memory_stats()
    times = []
    for k in range(a.repeat + 2):  # two warm-up steps
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        torch.cuda.synchronize()
        if k >= 2:
            times.append(time.perf_counter() - t0)
    times.sort()
    s = times[len(times) // 2]
    mib = torch.cuda.max_memory_allocated() / 2 ** 20
    print(f'PyTorch {torch.__version__} VGG-13 BPTT T={a.T} batch {a.batch}{" TF32" if a.tf32 else ""}: '
          f'{s:.4f} s/step ({a.batch / s:.0f} img/s), max_memory_allocated {mib:.0f} MiB')
    return 0


if __name__ == '__main__':
    sys.exit(main())
