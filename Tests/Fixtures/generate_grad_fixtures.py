#!/usr/bin/env python3
"""Generates grad_reference.json: PyTorch reference values for the Grad ops whose
numerics must mirror PyTorch (resize, group norm, conv, Adam, pooling, activations).

Run from the repository root with any PyTorch ≥ 2.0 (CPU):
    python3 -m venv .venv-bench && .venv-bench/bin/pip install torch numpy
    .venv-bench/bin/python Tests/Fixtures/generate_grad_fixtures.py
Inputs are stored next to outputs, so the Swift tests need no RNG parity with torch.
Each case: name, inputs {name: {shape, data}}, outputs {name: {shape, data}}, where
outputs include gradients of <output, cotangent> for the stored cotangent.
"""
import json, os
import torch
import torch.nn.functional as F

torch.manual_seed(20261123)
cases = []


def t(x):
    x = x.detach().contiguous().float()
    return {"shape": list(x.shape), "data": [float(v) for v in x.reshape(-1).tolist()]}


def case(name, fn, inputs, params=None):
    """fn(**inputs) -> output; records output and input gradients for a random cotangent."""
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    y = fn(**leaves)
    r = torch.randn_like(y)
    (y * r).sum().backward()
    outs = {"output": t(y), "cotangent": t(r)}
    for k, v in leaves.items():
        outs["grad_" + k] = t(v.grad)
    cases.append({"name": name, "params": params or {}, "inputs": {k: t(v) for k, v in inputs.items()},
                  "outputs": outs})


x = torch.randn(2, 3, 7, 9)
for mode in ["bilinear", "bicubic"]:
    for (h, w) in [(13, 20), (4, 5), (7, 9 * 2), (3, 11)]:
        case(f"resize_{mode}_{h}x{w}",
             lambda x, mode=mode, h=h, w=w: F.interpolate(x, size=(h, w), mode=mode, align_corners=False),
             {"x": x}, {"mode": mode, "height": h, "width": w})
case("nearest2x", lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), {"x": x})

g = torch.randn(3, 8, 5, 6) * 3 + 1
case("group_norm_4", lambda x, w, b: F.group_norm(x, 4, w, b, eps=1e-5),
     {"x": g, "w": torch.randn(8), "b": torch.randn(8)}, {"groups": 4})

for (stride, pad, k) in [(1, 1, 3), (2, 1, 3), (1, 0, 1), (1, 2, 5)]:
    case(f"conv_s{stride}_p{pad}_k{k}",
         lambda x, w, b, stride=stride, pad=pad: F.conv2d(x, w, b, stride=stride, padding=pad),
         {"x": torch.randn(2, 5, 9, 8), "w": torch.randn(6, 5, k, k) * 0.3, "b": torch.randn(6)},
         {"stride": stride, "padding": pad})

case("max_pool_2x2", lambda x: F.max_pool2d(x, 2), {"x": torch.randn(2, 3, 7, 8)})
case("silu", lambda x: F.silu(x), {"x": torch.randn(40) * 3})
case("leaky_relu", lambda x: F.leaky_relu(x, 0.2), {"x": torch.randn(40) * 3})

# Adam: 5 steps with given gradients, two groups with different learning rates.
p1, p2 = torch.randn(7), torch.randn(3, 2)
grads = [(torch.randn(7), torch.randn(3, 2)) for _ in range(5)]
a, b = p1.clone().requires_grad_(True), p2.clone().requires_grad_(True)
opt = torch.optim.Adam([{"params": [a], "lr": 1e-2}, {"params": [b], "lr": 3e-3}])
for g1, g2 in grads:
    opt.zero_grad(); a.grad = g1.clone(); b.grad = g2.clone(); opt.step()
cases.append({"name": "adam", "params": {"lr1": 1e-2, "lr2": 3e-3},
              "inputs": {"p1": t(p1), "p2": t(p2), **{f"g1_{i}": t(g[0]) for i, g in enumerate(grads)},
                         **{f"g2_{i}": t(g[1]) for i, g in enumerate(grads)}},
              "outputs": {"p1": t(a), "p2": t(b), "exp_avg_sq_p1": t(opt.state[a]["exp_avg_sq"])}})

# Max pooling 3×3 stride 2 (AlexNet: floor; SqueezeNet 1.1: ceil_mode), odd and even sizes.
case("max_pool_3x3_s2", lambda x: F.max_pool2d(x, 3, 2), {"x": torch.randn(2, 3, 9, 12)})
case("max_pool_3x3_s2_ceil", lambda x: F.max_pool2d(x, 3, 2, ceil_mode=True), {"x": torch.randn(2, 3, 10, 13)})

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grad_reference.json")
with open(out, "w") as f:
    json.dump({"generator": "Tests/Fixtures/generate_grad_fixtures.py", "torch": torch.__version__,
               "cases": cases}, f)
print(f"wrote {len(cases)} cases to {out}")
