"""Builds a PyTorch module from an autorep architecture file (the same cfg text the C
engine reads), with state_dict names equal to autorep's tensor names. Used by the
golden-file generator to make reference outputs for arbitrary small networks."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def parse(text):
    secs = []
    for line in text.splitlines():
        for c in "#;":
            if c in line:
                line = line[:line.index(c)]
        line = line.strip()
        if not line:
            continue
        if line.startswith("["):
            secs.append((line[1:-1].strip(), {}))
        else:
            k, v = line.split("=", 1)
            secs[-1][1][k.strip()] = v.strip()
    return secs


class CfgNet(nn.Module):
    def __init__(self, text, in_shape, classes):
        super().__init__()
        secs = parse(text)
        assert secs[0][0] == "net"
        self.plan = []  # (kind, name, inputs, args)
        shapes = {"input": tuple(in_shape)}
        self.mods = nn.ModuleDict()
        prev = "input"
        for i, (kind, kv) in enumerate(secs[1:]):
            name = kv.get("name", f"_{kind}{i}")
            if kind == "add":
                a, b = [s.strip() for s in kv["from"].split(",")]
                ins = [a, b]
            else:
                ins = [kv.get("input", prev)]
            c, h, w = shapes[ins[0]]
            args = {}
            if kind == "conv":
                k, s, p = int(kv["size"]), int(kv.get("stride", 1)), int(kv.get("pad", 0))
                m = nn.Conv2d(c, int(kv["filters"]), k, s, p, bias=bool(int(kv.get("bias", 0))))
                self._add(name, m)
                out = (int(kv["filters"]), (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
            elif kind == "batchnorm":
                self._add(name, nn.BatchNorm2d(c, eps=float(kv.get("eps", 1e-5)),
                                               momentum=float(kv.get("momentum", 0.1))))
                out = (c, h, w)
            elif kind == "linear":
                o = classes if kv["outputs"] == "auto" else int(kv["outputs"])
                self._add(name, nn.Linear(c * h * w, o, bias=bool(int(kv.get("bias", 1)))))
                out = (o, 1, 1)
            elif kind in ("maxpool", "avgpool"):
                if kv.get("global") == "1":
                    args = dict(glob=True)
                    out = (c, 1, 1)
                else:
                    k = int(kv["size"])
                    s, p = int(kv.get("stride", k)), int(kv.get("pad", 0))
                    args = dict(k=k, s=s, p=p)
                    out = (c, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
            elif kind == "flatten":
                out = (c * h * w, 1, 1)
            else:
                out = (c, h, w)
            shapes[name] = out
            self.plan.append((kind, name, ins, args))
            prev = name
        self.names = {}

    def _add(self, name, m):
        # ModuleDict keys cannot contain dots: nest modules so state_dict names keep them
        parts = name.split(".")
        d = self
        for p in parts[:-1]:
            if not hasattr(d, p):
                d.add_module(p, nn.Module())
            d = getattr(d, p)
        d.add_module(parts[-1], m)

    def _get(self, name):
        d = self
        for p in name.split("."):
            d = getattr(d, p)
        return d

    def forward(self, x, relu_fn=None):
        vals = {"input": x}
        for kind, name, ins, args in self.plan:
            a = vals[ins[0]]
            if kind in ("conv", "batchnorm", "linear"):
                m = self._get(name)
                y = m(a.flatten(1)) if kind == "linear" else m(a)
                if kind == "linear":
                    y = y.view(y.shape[0], -1, 1, 1)
            elif kind == "relu":
                y = relu_fn(name, a) if relu_fn else F.relu(a)
            elif kind == "maxpool":
                y = F.max_pool2d(a, args["k"], args["s"], args["p"])
            elif kind == "avgpool":
                y = a.mean((2, 3), keepdim=True) if args.get("glob") else F.avg_pool2d(a, args["k"], args["s"], args["p"])
            elif kind == "add":
                y = a + vals[ins[1]]
            elif kind == "flatten":
                y = a.flatten(1).view(a.shape[0], -1, 1, 1)
            vals[name] = y
        return vals[self.plan[-1][1]].flatten(1)
