#!/usr/bin/python3
"""Writes the PyTorch reference files in tests/golden/ (committed; tests need no Python).

Run with Debian's python3-torch:  /usr/bin/python3 tools/gen_golden.py tests/golden
Each file is safetensors: inputs, parameters, outputs and gradients of one case,
with the case's settings in the metadata. Layer cases are computed in float64 and
stored as float32, so they are a reference free of float32 rounding noise.
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402
from cfgnet import CfgNet  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/golden"
torch.manual_seed(1234)
D = torch.float64


def f32(d):
    return {k: (v.detach().to(torch.float32) if v.dtype == D else v.detach()) for k, v in d.items()}


def save(name, tensors, **meta):
    st.save(os.path.join(OUT, name + ".safetensors"), f32(tensors), {k: str(v) for k, v in meta.items()})


def rnd(*shape):
    # values exactly representable in float32, so the C side sees the same inputs
    return torch.randn(*shape, dtype=torch.float32).to(D).requires_grad_(True)


def conv_case(tag, n, c, h, w, oc, k, s, p, bias):
    x, wt = rnd(n, c, h, w), rnd(oc, c, k, k)
    b = rnd(oc) if bias else None
    y = F.conv2d(x, wt, b, s, p)
    dy = torch.randn_like(y).to(torch.float32).to(D)
    y.backward(dy)
    t = dict(x=x, w=wt, y=y, dy=dy, dx=x.grad, dw=wt.grad)
    if bias:
        t.update(b=b, db=b.grad)
    save("conv_" + tag, t, n=n, c=c, h=h, w=w, oc=oc, k=k, stride=s, pad=p, bias=int(bias))


def bn_case(tag, n, c, h, w):
    x = rnd(n, c, h, w) * 2 + 0.5
    x = x.detach().to(torch.float32).to(D).requires_grad_(True)
    g, b = rnd(c), rnd(c)
    rm, rv = torch.randn(c, dtype=torch.float32).to(D), (torch.rand(c, dtype=torch.float32) + 0.5).to(D)
    rm1, rv1 = rm.clone(), rv.clone()
    y = F.batch_norm(x, rm1, rv1, g, b, training=True, momentum=0.1, eps=1e-5)
    dy = torch.randn_like(y).to(torch.float32).to(D)
    y.backward(dy)
    ye = F.batch_norm(x.detach(), rm, rv, g.detach(), b.detach(), training=False, eps=1e-5)
    save("bn_" + tag, dict(x=x, weight=g, bias=b, running_mean=rm, running_var=rv, y=y, dy=dy, dx=x.grad,
                           dweight=g.grad, dbias=b.grad, running_mean_out=rm1, running_var_out=rv1, y_eval=ye),
         n=n, c=c, h=h, w=w)


def pool_case(tag, kind, n, c, h, w, k, s, p):
    x = rnd(n, c, h, w)
    if kind == "max":
        y = F.max_pool2d(x, k, s, p)
    elif kind == "avg":
        y = F.avg_pool2d(x, k, s, p)
    else:
        y = x.mean((2, 3), keepdim=True)
    dy = torch.randn_like(y).to(torch.float32).to(D)
    y.backward(dy)
    save("pool_" + tag, dict(x=x, y=y, dy=dy, dx=x.grad), kind=kind, n=n, c=c, h=h, w=w, k=k, stride=s, pad=p)


def main():
    os.makedirs(OUT, exist_ok=True)
    conv_case("k3s1p1b", 2, 3, 7, 6, 4, 3, 1, 1, True)
    conv_case("k1s2p0", 2, 5, 8, 8, 6, 1, 2, 0, False)
    conv_case("k5s2p2", 1, 2, 9, 9, 3, 5, 2, 2, True)
    conv_case("k3s2p1", 3, 4, 8, 7, 8, 3, 2, 1, False)
    bn_case("a", 4, 3, 5, 5)
    bn_case("b", 2, 6, 1, 1)
    pool_case("max_k2s2", "max", 2, 3, 6, 6, 2, 2, 0)
    pool_case("max_k3s2p1", "max", 2, 2, 7, 7, 3, 2, 1)
    pool_case("avg_k2s2", "avg", 2, 3, 6, 6, 2, 2, 0)
    pool_case("avg_k3s1p1", "avg", 1, 2, 5, 5, 3, 1, 1)
    pool_case("avg_k3s2p1", "avg", 1, 2, 6, 6, 3, 2, 1)
    pool_case("gap", "gap", 3, 4, 5, 3, 0, 0, 0)

    # ReLU (no values at the kink)
    x = rnd(3, 4, 5, 5)
    y = F.relu(x)
    dy = torch.randn_like(y).to(torch.float32).to(D)
    y.backward(dy)
    save("relu", dict(x=x, y=y, dy=dy, dx=x.grad))

    # linear
    x, w, b = rnd(5, 7), rnd(3, 7), rnd(3)
    y = F.linear(x, w, b)
    dy = torch.randn_like(y).to(torch.float32).to(D)
    y.backward(dy)
    save("linear", dict(x=x, w=w, b=b, y=y, dy=dy, dx=x.grad, dw=w.grad, db=b.grad))

    # softmax cross-entropy (mean) and distillation T^2 * KL(p_t || p_s) (batchmean)
    z = (rnd(6, 10) * 3).detach().to(torch.float32).to(D).requires_grad_(True)
    lab = torch.randint(0, 10, (6,))
    loss = F.cross_entropy(z, lab)
    loss.backward()
    save("xent", dict(logits=z, labels=lab.to(torch.int64), loss=loss.reshape(1), dlogits=z.grad))
    s_, t_ = rnd(6, 10) * 2, (rnd(6, 10) * 2).detach()
    s_ = s_.detach().to(torch.float32).to(D).requires_grad_(True)
    t_ = t_.to(torch.float32).to(D)
    T = 4.0
    kd = F.kl_div(F.log_softmax(s_ / T, 1), F.softmax(t_ / T, 1), reduction="batchmean") * T * T
    kd.backward()
    save("kd", dict(s=s_, t=t_, loss=kd.reshape(1), ds=s_.grad), T=T)

    # optimizers: three steps with given gradients (float32, PyTorch's own code)
    for name, make in [
        ("sgd", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=5e-4)),
        ("sgd_nesterov", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
        ("adam", lambda p: torch.optim.Adam(p, lr=1e-3)),
        ("adam_wd", lambda p: torch.optim.Adam(p, lr=1e-2, weight_decay=1e-2)),
    ]:
        p0 = torch.randn(50)
        p = p0.clone().requires_grad_(True)
        opt = make([p])
        grads = torch.randn(3, 50)
        outs = []
        for i in range(3):
            p.grad = grads[i].clone()
            opt.step()
            outs.append(p.detach().clone())
        g = opt.param_groups[0]
        st.save(os.path.join(OUT, "optim_" + name + ".safetensors"),
                dict(p0=p0, grads=grads, p_steps=torch.stack(outs)),
                {"kind": "adam" if "adam" in name else "sgd", "lr": str(g["lr"]), "momentum": str(g.get("momentum", 0)),
                 "nesterov": str(int(g.get("nesterov", False))), "wd": str(g["weight_decay"])})

    # cosine schedule: PyTorch's recursive CosineAnnealingLR vs the closed form
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sch = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=7, eta_min=1e-3)
    lrs = []
    for _ in range(7):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
    st.save(os.path.join(OUT, "sched_cosine.safetensors"), dict(lrs=torch.tensor(lrs, dtype=torch.float64)),
            {"base": "0.1", "T": "7", "eta_min": "0.001"})

    # a tiny residual network trained for a few SGD steps in float32: losses per step
    cfg = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "tiny.cfg")).read()
    torch.manual_seed(7)
    net = CfgNet(cfg, (3, 8, 8), 5)
    init = {k: v.clone() for k, v in net.state_dict().items()}
    xs = torch.randn(4, 8, 3, 8, 8)
    ys = torch.randint(0, 5, (4, 8))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    losses = []
    net.train()
    for i in range(4):
        opt.zero_grad()
        loss = F.cross_entropy(net(xs[i]), ys[i])
        loss.backward()
        losses.append(loss.item())
        opt.step()
    net.eval()
    with torch.no_grad():
        eval_logits = net(xs[0])
    t = {"init." + k: v for k, v in init.items()}
    t.update({"final." + k: v for k, v in net.state_dict().items()})
    t.update(xs=xs, ys=ys.to(torch.int64), losses=torch.tensor(losses, dtype=torch.float64), eval_logits=eval_logits)
    st.save(os.path.join(OUT, "tiny_train.safetensors"), t, {"cfg": cfg, "lr": "0.05", "momentum": "0.9",
                                                              "wd": "5e-4"})

    # a PyTorch-written checkpoint (plain state_dict, no autorep metadata) and its logits
    torch.manual_seed(11)
    net = CfgNet(cfg, (3, 8, 8), 5)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    net.eval()
    x = torch.randn(6, 3, 8, 8)
    with torch.no_grad():
        logits = net(x)
    st.save(os.path.join(OUT, "torch_ckpt.safetensors"), net.state_dict())
    st.save(os.path.join(OUT, "torch_ckpt_io.safetensors"), dict(input=x, logits=logits))
    print("wrote goldens to", OUT)


if __name__ == "__main__":
    main()
