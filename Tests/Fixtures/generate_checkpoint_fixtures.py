#!/usr/bin/env python3
"""Generates the PyTorch / safetensors fixtures for the Checkpoints tests.

Setup (once), from the repository root:
    python3 -m venv .venv-bench && .venv-bench/bin/pip install torch numpy
    .venv-bench/bin/pip download --no-deps -d /tmp/lpips lpips==0.1.4
    .venv-bench/bin/python Tests/Fixtures/generate_checkpoint_fixtures.py /tmp/lpips/lpips-0.1.4-py3-none-any.whl
Writes Tests/Fixtures/pth/*.pth|*.pt and checkpoint_reference.json (expected values).
The tests read these files with the pure-Swift reader; no Python at test time.
"""
import io, json, os, sys, zipfile
import torch

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "pth")
torch.manual_seed(20261123)
expected = {}

def record(file, name, t):
    expected.setdefault(file, {})[name] = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                                           "values": [float(v) for v in t.detach().float().reshape(-1).tolist()]}

# 1. Mixed contents: nested dicts, dtypes, a non-contiguous view, shared storage, plain values.
base = torch.randn(4, 6)
shared = torch.arange(12, dtype=torch.float32)
obj = {
    "nested": {"w": torch.randn(3, 2), "half": torch.randn(5).half(), "bf16": torch.randn(2, 2).bfloat16(),
               "long": torch.arange(-3, 4, dtype=torch.long), "int": torch.tensor([7, -8], dtype=torch.int32)},
    "transposed": base.t(),              # strides (1, 6)
    "sliced": base[1:3, ::2],            # offset 6, strides (6, 2)
    "view_a": shared[:5], "view_b": shared[4:].view(2, 4),  # one storage, two views
    "epoch": 7, "name": "fixture", "lr": 0.5, "flag": True, "nothing": None, "pair": (1, 2),
}
for fmt, name in [(True, "mixed_zip.pth"), (False, "mixed_legacy.pth")]:
    torch.save(obj, os.path.join(out, name), _use_new_zipfile_serialization=fmt)
    for k, v in obj["nested"].items():
        record(name, f"nested.{k}", v)
    for k in ["transposed", "sliced", "view_a", "view_b"]:
        record(name, k, obj[k])

# 1b. Views read lazily: an expanded view (stride 0), a broadcast bias, a permuted 4-D
# view and a narrow slice of a large storage, in both containers.
grid = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
views = {
    "expanded": torch.arange(3, dtype=torch.float32).expand(4, 3),          # strides (0, 1)
    "broadcast": torch.tensor([1.5, -2.0], dtype=torch.float64)[:, None, None].expand(2, 3, 2),
    "permuted": grid.permute(3, 1, 0, 2),                                  # strides (1, 20, 60, 5)
    "narrow": torch.arange(1000, dtype=torch.int64)[997:],                # offset 997
}
for fmt, name in [(True, "views_zip.pth"), (False, "views_legacy.pth")]:
    torch.save(views, os.path.join(out, name), _use_new_zipfile_serialization=fmt)
    for k, v in views.items():
        record(name, k, v)

# 2. (The official ECDP layouts: generate_official_fixtures.py, from the official code.)

# 3. torchvision-style names (real key layout of vgg19 / alexnet, tiny shapes).
vgg_convs = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]
vgg = {}
for i in vgg_convs:
    vgg[f"features.{i}.weight"] = torch.randn(2, 2, 3, 3); vgg[f"features.{i}.bias"] = torch.randn(2)
for i in [0, 3, 6]:
    vgg[f"classifier.{i}.weight"] = torch.randn(2, 2); vgg[f"classifier.{i}.bias"] = torch.randn(2)
torch.save(vgg, os.path.join(out, "vgg19_layout.pth"))
alex = {}
for i in [0, 3, 6, 8, 10]:
    alex[f"features.{i}.weight"] = torch.randn(2, 2, 3, 3); alex[f"features.{i}.bias"] = torch.randn(2)
for i in [1, 4, 6]:
    alex[f"classifier.{i}.weight"] = torch.randn(2, 2); alex[f"classifier.{i}.bias"] = torch.randn(2)
torch.save(alex, os.path.join(out, "alexnet_layout.pth"))

# 4. The real LPIPS v0.1 AlexNet heads from the lpips wheel (legacy format, BSD-2-Clause).
if len(sys.argv) > 1:
    with zipfile.ZipFile(sys.argv[1]) as z:
        data = z.read("lpips/weights/v0.1/alex.pth")
    open(os.path.join(out, "lpips_alex_v0.1.pth"), "wb").write(data)
    heads = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    expected["lpips_alex_v0.1.pth"] = {k: {"shape": list(v.shape), "sum": float(v.sum())} for k, v in heads.items()}

# 5. Bad inputs.
zip_bytes = open(os.path.join(out, "mixed_zip.pth"), "rb").read()
open(os.path.join(out, "bad_truncated_zip.pth"), "wb").write(zip_bytes[: len(zip_bytes) // 2])
legacy_bytes = open(os.path.join(out, "mixed_legacy.pth"), "rb").read()
open(os.path.join(out, "bad_truncated_legacy.pth"), "wb").write(legacy_bytes[: len(legacy_bytes) - 40])
# A pickle that would run os.system("ls") if unpickled naively.
open(os.path.join(out, "bad_os_system.pth"), "wb").write(b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.")
open(os.path.join(out, "bad_text.pth"), "wb").write(b"hello, not a checkpoint\n")

with open(os.path.join(here, "checkpoint_reference.json"), "w") as f:
    json.dump({"generator": "Tests/Fixtures/generate_checkpoint_fixtures.py", "torch": torch.__version__,
               "files": expected}, f)
print("wrote", sorted(os.listdir(out)))
