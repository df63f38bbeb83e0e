#!/usr/bin/env python3
"""Generates the LPIPS fixtures with the `lpips` package itself (0.1.4, its real v0.1 heads).

ImageNet backbones cannot be downloaded here, so each backbone is torchvision's own
architecture (`lpips.LPIPS(net=..., pnet_rand=True)`) with its weights overwritten:
- AlexNet and VGG16: weights from a seeded integer formula (below) that the Swift test
  evaluates too, so no weights are committed for them;
- SqueezeNet 1.1: the same formula rounded to float16, saved as a complete torchvision
  state dict (`torch.save(squeezenet1_1().state_dict())`, classifier included, float16 to
  keep it small) — the Swift test reads that file through the `.pth` loader.
Images come from the same formula. Outputs: Tests/Fixtures/lpips/lpips_reference.json and
Tests/Fixtures/lpips/squeezenet1_1-formula-f16.pth. The shipped heads are converted
separately (Checkpoints/lpips/README.md).

Run from the repository root:
    .venv-bench/bin/pip install torch torchvision lpips==0.1.4 tqdm
    .venv-bench/bin/python Tests/Fixtures/generate_lpips_fixtures.py
"""
import json, math, os
import numpy as np
import torch, torchvision
import lpips

M32 = 0xFFFFFFFF


def fnv1a(text):
    h = 0x811C9DC5
    for b in text.encode():
        h = ((h ^ b) * 0x01000193) & M32
    return h


def uniforms(seed, count):
    """u_i in [0, 1): a 32-bit integer hash of (seed, i) divided by 2^32 (exact in float64)."""
    i = np.arange(count, dtype=np.uint64)
    x = (i * np.uint64(0x9E3779B9) + np.uint64(seed)) & np.uint64(M32)
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x85EBCA6B)) & np.uint64(M32)
    x ^= x >> np.uint64(13)
    x = (x * np.uint64(0xC2B2AE35)) & np.uint64(M32)
    x ^= x >> np.uint64(16)
    return x.astype(np.float64) / 4294967296.0


def formula_weight(name, shape):
    """Kaiming-uniform-like: (2u − 1)·√(6 / fan_in) for weights, (2u − 1)·0.1 for biases, in float64 → float32."""
    count = int(np.prod(shape))
    u = uniforms(fnv1a(name), count)
    bound = math.sqrt(6.0 / int(np.prod(shape[1:]))) if len(shape) > 1 else 0.1
    return torch.from_numpy(((2 * u - 1) * bound).astype(np.float32).reshape(shape))


def image(seed, h, w):
    return torch.from_numpy(uniforms(seed, 3 * h * w).astype(np.float32).reshape(1, 3, h, w))


def torchvision_name(name):
    """lpips's `slice<k>.<features index>.<rest>` → torchvision's `features.<index>.<rest>`."""
    parts = name.split(".")
    return ".".join(["features"] + parts[1:])


root = os.path.dirname(os.path.abspath(__file__))
out_dir = os.path.join(root, "lpips")
os.makedirs(out_dir, exist_ok=True)
sizes = [(64, 64), (48, 80), (67, 45)]
cases = []
for net in ["alex", "vgg", "squeeze"]:
    model = lpips.LPIPS(net=net, pnet_rand=True, verbose=False)
    state = {}
    for name, p in model.net.named_parameters():
        tv = torchvision_name(name)
        w = formula_weight(tv, tuple(p.shape))
        if net == "squeeze":
            w = w.half().float()  # what the saved float16 file holds
        with torch.no_grad():
            p.copy_(w)
        state[tv] = w
    if net == "squeeze":
        full = torchvision.models.squeezenet1_1().state_dict()
        full.update(state)
        torch.save({k: v.half() for k, v in full.items()},
                   os.path.join(out_dir, "squeezenet1_1-formula-f16.pth"))
    for k, (h, w) in enumerate(sizes):
        a = image(1000 + 2 * k, h, w)
        b = (0.7 * a + 0.3 * image(1001 + 2 * k, h, w)).clamp(0, 1)
        with torch.no_grad():
            total, layers = model(a, b, retPerLayer=True, normalize=True)
        cases.append({"net": net, "height": h, "width": w, "image_seeds": [1000 + 2 * k, 1001 + 2 * k],
                      "lpips": float(total.item()), "layers": [float(l.item()) for l in layers]})
        print(net, h, w, float(total.item()))

with open(os.path.join(out_dir, "lpips_reference.json"), "w") as f:
    json.dump({"generator": "Tests/Fixtures/generate_lpips_fixtures.py", "lpips": lpips.__version__ if hasattr(lpips, "__version__") else "0.1.4",
               "torch": torch.__version__, "torchvision": torchvision.__version__,
               "image_b": "clamp(0.7 * a + 0.3 * formula(seed_b), 0, 1)", "cases": cases}, f, indent=1)
