#!/usr/bin/env python3
"""Generates torchvision_resize_reference.json with torchvision itself: antialiased bicubic
resizing of float tensors (`torchvision.transforms.functional.resize(x, size,
InterpolationMode.BICUBIC, antialias=True)`), the BC paper's LR degradation.

Run from the repository root: .venv-bench/bin/python Tests/Fixtures/generate_torchvision_resize_fixtures.py
"""
import json, os
import numpy as np
import torch, torchvision
import torchvision.transforms.functional as TF
from PIL import Image

root = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(os.path.dirname(root))
src = np.asarray(Image.open(os.path.join(repo, "Training/data/demo/test/chelsea.png")).convert("RGB"))
x = torch.from_numpy(src[100:132, 120:150].copy()).permute(2, 0, 1).float() / 255  # [3, 32, 30]
cases = []
for (h, w) in [(8, 8), (13, 11), (32, 30), (40, 36)]:
    y = TF.resize(x, [h, w], interpolation=TF.InterpolationMode.BICUBIC, antialias=True)
    cases.append({"height": h, "width": w, "data": [float("%.8g" % v) for v in y.reshape(-1)]})
with open(os.path.join(root, "torchvision_resize_reference.json"), "w") as f:
    json.dump({"generator": "Tests/Fixtures/generate_torchvision_resize_fixtures.py", "torch": torch.__version__,
               "torchvision": torchvision.__version__, "source": "chelsea.png rows 100..<132, columns 120..<150",
               "cases": cases}, f)
print("wrote", len(cases), "cases")
