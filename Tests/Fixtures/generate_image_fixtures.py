#!/usr/bin/env python3
"""Generates the image, resize and metric fixtures for the Imaging/Evaluation tests.

Independent implementations only: pypng writes every PNG kind, BasicSR 1.4.2's
`matlab_functions.imresize` (a port of MATLAB imresize) makes the resize references,
scikit-image and BasicSR's `psnr_ssim` make the metric references.

Setup (once; the venv stays out of git), from the repository root:
    python3 -m venv .venv-bench
    .venv-bench/bin/pip install torch numpy scikit-image opencv-python-headless pypng
    .venv-bench/bin/pip download --no-deps -d /tmp/basicsr basicsr==1.4.2
    tar xzf /tmp/basicsr/basicsr-1.4.2.tar.gz -C /tmp/basicsr
    .venv-bench/bin/python Tests/Fixtures/generate_image_fixtures.py /tmp/basicsr/basicsr-1.4.2
Writes Tests/Fixtures/png/*.png + png_kinds.json, resize_reference.json,
metrics/*.png + metrics_reference.json.
"""
import importlib.util, json, os, struct, sys, types, zlib
import numpy as np
import png  # pypng
import skimage, skimage.metrics
from skimage.io import imread

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
demo = os.path.join(root, "Training", "data", "demo")
basicsr_src = sys.argv[1]

# Load BasicSR's pure modules without running its package __init__ (which needs
# torchvision and compiled ops).
for name in ["basicsr", "basicsr.utils", "basicsr.metrics"]:
    m = types.ModuleType(name); m.__path__ = [os.path.join(basicsr_src, *name.split("."))]; sys.modules[name] = m
def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(basicsr_src, *name.split(".")) + ".py")
    mod = importlib.util.module_from_spec(spec); sys.modules[name] = mod; spec.loader.exec_module(mod); return mod
load("basicsr.utils.registry")
sys.modules["basicsr.utils"].bgr2ycbcr = load("basicsr.utils.color_util").bgr2ycbcr
matlab = load("basicsr.utils.matlab_functions")
load("basicsr.metrics.metric_util")
psnr_ssim = load("basicsr.metrics.psnr_ssim")

rng = np.random.default_rng(20261123)

# ---------------------------------------------------------------- PNG kinds
kinds = {}
def write_png(name, rows, expected_rgb, **kw):
    path = os.path.join(here, "png", name + ".png")
    with open(path, "wb") as f:
        png.Writer(**kw).write(f, rows)
    kinds[name] = {"file": f"png/{name}.png", "height": len(expected_rgb), "width": len(expected_rgb[0]),
                   "rgb": [float(v) for v in np.asarray(expected_rgb, dtype=np.float64).reshape(-1)]}

W, H = 7, 5
for depth in [1, 2, 4, 8, 16]:
    mx = 2 ** depth - 1
    g = rng.integers(0, mx + 1, size=(H, W))
    write_png(f"gray{depth}", g.tolist(), np.repeat((g / mx)[..., None], 3, axis=2),
              width=W, height=H, greyscale=True, bitdepth=depth)
for depth in [8, 16]:
    mx = 2 ** depth - 1
    ga = rng.integers(0, mx + 1, size=(H, W, 2))
    write_png(f"gray_alpha{depth}", ga.reshape(H, -1).tolist(), np.repeat((ga[..., :1] / mx), 3, axis=2),
              width=W, height=H, greyscale=True, alpha=True, bitdepth=depth)
    rgb = rng.integers(0, mx + 1, size=(H, W, 3))
    write_png(f"rgb{depth}", rgb.reshape(H, -1).tolist(), rgb / mx, width=W, height=H, greyscale=False, bitdepth=depth)
    write_png(f"rgb{depth}_interlaced", rgb.reshape(H, -1).tolist(), rgb / mx, width=W, height=H,
              greyscale=False, bitdepth=depth, interlace=True)
    rgba = rng.integers(0, mx + 1, size=(H, W, 4))
    write_png(f"rgba{depth}", rgba.reshape(H, -1).tolist(), rgba[..., :3] / mx, width=W, height=H,
              greyscale=False, alpha=True, bitdepth=depth)
for depth in [1, 2, 4, 8]:
    n = 2 ** depth
    palette = [tuple(int(v) for v in rng.integers(0, 256, size=3)) for _ in range(n)]
    idx = rng.integers(0, n, size=(H, W))
    write_png(f"palette{depth}", idx.tolist(), np.array(palette)[idx] / 255, width=W, height=H,
              palette=palette, bitdepth=depth)
palette = [tuple(int(v) for v in rng.integers(0, 256, size=3)) + (int(a),) for a in rng.integers(0, 256, size=16)]
idx = rng.integers(0, 16, size=(H, W))
write_png("palette4_trns", idx.tolist(), np.array([p[:3] for p in palette])[idx] / 255, width=W, height=H,
          palette=palette, bitdepth=4)
g = rng.integers(0, 65536, size=(H, W))
write_png("gray16_interlaced", g.tolist(), np.repeat((g / 65535)[..., None], 3, axis=2), width=W, height=H,
          greyscale=True, bitdepth=16, interlace=True)
with open(os.path.join(here, "png_kinds.json"), "w") as f:
    json.dump(kinds, f)

# Bad inputs, each named for what is wrong with it.
good = open(os.path.join(here, "png", "rgb8.png"), "rb").read()
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
sig = b"\x89PNG\r\n\x1a\n"
bad = {
    "empty.png": b"",
    "not_a_png.png": b"This is a text file, not an image.\n",
    "truncated.png": good[: len(good) * 2 // 3],
    "bad_crc.png": good[:29] + bytes([good[29] ^ 0xFF]) + good[30:],  # IHDR checksum
    "zero_width.png": sig + chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 5, 8, 2, 0, 0, 0)) + chunk(b"IEND", b""),
    "huge.png": sig + chunk(b"IHDR", struct.pack(">IIBBBBB", 900000, 900000, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""),
}
for name, data in bad.items():
    open(os.path.join(here, "png", "bad_" + name), "wb").write(data)

# ---------------------------------------------------------------- MATLAB imresize
photo = imread(os.path.join(demo, "train", "astronaut.png"))[:, :, :3].astype(np.float64) / 255
resize_cases = []
for (y, x, h, w, scale) in [(100, 120, 48, 40, 0.25), (10, 20, 33, 29, 1 / 3), (200, 64, 30, 30, 0.5),
                            (0, 0, 12, 10, 2.0), (50, 50, 20, 24, 0.37), (300, 300, 17, 16, 4.0)]:
    crop = photo[y:y + h, x:x + w]
    out = matlab.imresize(crop.astype(np.float32), scale)
    resize_cases.append({"source": "Training/data/demo/train/astronaut.png", "y": y, "x": x, "height": h, "width": w,
                         "scale": scale, "out_height": int(out.shape[0]), "out_width": int(out.shape[1]),
                         "output_chw": [float(v) for v in out.transpose(2, 0, 1).reshape(-1)]})
with open(os.path.join(here, "resize_reference.json"), "w") as f:
    json.dump({"generator": "Tests/Fixtures/generate_image_fixtures.py", "reference": "basicsr 1.4.2 matlab_functions.imresize",
               "cases": resize_cases}, f)

# ---------------------------------------------------------------- metrics
def to8(x):
    return np.clip(np.round(x * 255), 0, 255).astype(np.uint8)

metric_cases = []
for name in ["chelsea", "face", "picosdeeuropa", "picture1a"]:
    hr8 = imread(os.path.join(demo, "test", name + ".png"))[:, :, :3]
    hr = hr8.astype(np.float64) / 255
    lr8 = to8(matlab.imresize(hr.astype(np.float32), 0.25))
    # A plausible "SR output": the LR upscaled ×4 by MATLAB bicubic, plus mild noise.
    up = matlab.imresize(lr8.astype(np.float32) / 255, 4.0)
    sr8 = to8(up + rng.normal(0, 0.01, size=up.shape))
    png.from_array(lr8.reshape(lr8.shape[0], -1), "RGB").save(os.path.join(here, "metrics", f"{name}_lr.png"))
    png.from_array(sr8.reshape(sr8.shape[0], -1), "RGB").save(os.path.join(here, "metrics", f"{name}_sr.png"))
    sr = sr8.astype(np.float64) / 255
    ecdp_psnr = skimage.metrics.peak_signal_noise_ratio(hr, sr, data_range=1)
    ecdp_ssim = skimage.metrics.structural_similarity(hr, sr, channel_axis=2, data_range=1, gaussian_weights=True,
                                                      sigma=1.5, use_sample_covariance=False)
    # BasicSR takes HWC BGR 0..255 images.
    b_hr, b_sr = hr8[..., ::-1].astype(np.float64), sr8[..., ::-1].astype(np.float64)
    basicsr_psnr = psnr_ssim.calculate_psnr(b_hr, b_sr, crop_border=4, test_y_channel=True)
    basicsr_ssim = psnr_ssim.calculate_ssim(b_hr, b_sr, crop_border=4, test_y_channel=True)
    # LR-PSNR: MATLAB-bicubic downscale of the SR output, quantized, against the LR input.
    down8 = to8(matlab.imresize(sr.astype(np.float32), 0.25))
    lr_psnr = skimage.metrics.peak_signal_noise_ratio(lr8.astype(np.float64) / 255, down8.astype(np.float64) / 255, data_range=1)
    metric_cases.append({"name": name, "reference": f"Training/data/demo/test/{name}.png",
                         "output": f"Tests/Fixtures/metrics/{name}_sr.png", "lr": f"Tests/Fixtures/metrics/{name}_lr.png",
                         "ecdp": {"psnr": ecdp_psnr, "ssim": ecdp_ssim, "lr_psnr": lr_psnr},
                         "basicsr": {"psnr": basicsr_psnr, "ssim": basicsr_ssim}})
with open(os.path.join(here, "metrics_reference.json"), "w") as f:
    json.dump({"generator": "Tests/Fixtures/generate_image_fixtures.py", "skimage": skimage.__version__,
               "basicsr": "1.4.2", "cases": metric_cases}, f, indent=1)
print(f"{len(kinds)} PNG kinds, {len(bad)} bad files, {len(resize_cases)} resize cases, {len(metric_cases)} metric cases")
