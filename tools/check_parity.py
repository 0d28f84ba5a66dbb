#!/usr/bin/python3
"""PyTorch parity of `autorep predict`: builds a reference model in PyTorch
(tools/torch_models.py, random weights and BatchNorm statistics), saves its
state_dict as safetensors, runs `./autorep predict --arch NAME` on a random
input and compares the logits (atol 1e-4 of the logit scale).

  /usr/bin/python3 tools/check_parity.py resnet18_in 3x32x32 10 [batch]
"""
import os
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402
from torch_models import MODELS, randomize_bn  # noqa: E402


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "resnet18_in"
    c, h, w = (int(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "3x32x32").split("x"))
    classes = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    torch.manual_seed(0)
    model = MODELS[name](c, classes)
    randomize_bn(model)
    model.eval()
    x = torch.randn(n, c, h, w)
    with torch.no_grad():
        want = model(x)
    with tempfile.TemporaryDirectory() as d:
        ck, inp, out = (os.path.join(d, f) for f in ("model.safetensors", "in.safetensors", "out.safetensors"))
        st.save(ck, model.state_dict())
        st.save(inp, {"input": x})
        subprocess.run(["./autorep", "predict", "--model", ck, "--arch", name, "--input", inp, "--out", out],
                       check=True)
        got = st.load(out)[0]["logits"]
    scale = want.abs().max().item()
    diff = (got - want).abs().max().item()
    ok = diff <= 1e-4 * scale
    print(f"{name} {c}x{h}x{w} batch {n}: max |logit diff| {diff:.3g}, logit scale {scale:.3g}, "
          f"relative {diff / scale:.3g} -> {'OK' if ok else 'MISMATCH'}; argmax agree "
          f"{(got.argmax(1) == want.argmax(1)).float().mean().item():.3f}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
