#!/usr/bin/env python3
"""Generates imresize_uint8_reference.json with the official ECDP code's own `imresize`
(lib/dataset/imresize.py of Yuan-Yutao/ECDP) on uint8 images — what its CelebA, FFHQ and
ImageNet datasets do to make HR (pre_resize) and LR (×1/scale) images, each of the two
passes rounding to uint8.

    .venv-bench/bin/python Tests/Fixtures/generate_imresize_uint8_fixtures.py /path/to/ECDP-checkout
"""
import importlib.util, json, os, sys
import numpy as np
from PIL import Image

checkout = sys.argv[1]
spec = importlib.util.spec_from_file_location("imresize", os.path.join(checkout, "lib/dataset/imresize.py"))
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
root = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(os.path.dirname(root))
src = np.asarray(Image.open(os.path.join(repo, "Training/data/demo/test/face.png")).convert("RGB"))[40:76, 50:80]  # 36×30
cases = []
for shape in [(9, 7), (20, 20), (4, 4), (45, 33)]:
    out = mod.imresize(src, output_shape=shape)
    assert out.dtype == np.uint8
    cases.append({"height": shape[0], "width": shape[1], "data": out.transpose(2, 0, 1).reshape(-1).tolist()})
with open(os.path.join(root, "imresize_uint8_reference.json"), "w") as f:
    json.dump({"generator": "Tests/Fixtures/generate_imresize_uint8_fixtures.py", "source": "face.png rows 40..<76, columns 50..<80",
               "cases": cases}, f)
print("wrote", len(cases), "cases")
