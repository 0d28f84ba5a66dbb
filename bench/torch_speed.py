#!/usr/bin/python3
"""PyTorch side of the speed comparison (run by bench/vs_pytorch.sh with
Debian's python3-torch). Same networks as autorep (tools/torch_models.py),
synthetic data, SGD step (training) or no-grad forward (inference).
Prints one JSON line: img/s median/min/max over repetitions, peak RSS.

  torch_speed.py --arch resnet18_in --input 3x32x32 --batch 128 --threads 2
                 [--infer] [--channels-last] [--reps 5] [--warmup 2] [--steps 4]
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from torch_models import MODELS  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="resnet18_in")
    p.add_argument("--input", default="3x32x32")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--infer", action="store_true")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--steps", type=int, default=4)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    c, h, w = (int(v) for v in a.input.split("x"))
    model = MODELS[a.arch](c, a.classes)
    x = torch.randn(a.batch, c, h, w)
    y = torch.randint(0, a.classes, (a.batch,))
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    if a.infer:
        model.eval()
    else:
        model.train()

    def step():
        if a.infer:
            with torch.no_grad():
                model(x)
        else:
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()

    times = []
    for r in range(-a.warmup, a.reps):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        if r >= 0:
            times.append(time.perf_counter() - t0)
    times.sort()
    ips = [a.steps * a.batch / t for t in times]
    print(json.dumps({"img_s_median": ips[len(ips) // 2] if len(ips) % 2 else a.steps * a.batch / times[len(times) // 2],
                      "img_s_min": min(ips), "img_s_max": max(ips),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))


if __name__ == "__main__":
    main()
