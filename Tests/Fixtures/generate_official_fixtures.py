#!/usr/bin/env python3
"""Fixtures made by the official ECDP code (Yuan-Yutao/ECDP @1696fa1) itself.

Regenerate from the repository root (torch, torchvision and torchdiffeq 0.2.x; the numbers
committed came from torch 2.15, torchvision and torchdiffeq 0.2.5):
    python3 -m venv .venv-bench && .venv-bench/bin/pip install torch torchvision torchdiffeq
    git clone https://github.com/Yuan-Yutao/ECDP /tmp/ecdp-official   # (any checkout of 1696fa1)
    .venv-bench/bin/python Tests/Fixtures/generate_official_fixtures.py /tmp/ecdp-official

What it does, in a temporary copy of the official tree:
  * The one patch (the only change to the official code, to keep the files small): the U-Net's
    widths in lib/model/unet.py become those of our `tiny` config — `in_conv` 64 → 16 channels,
    `channels = [64, 128, 256, 256]` → `[16, 32, 32]`, `num_blocks = [2, 2, 2, 2]` → `[1, 1, 1]`.
    Everything else (time embedding width 128, RRDB sizes from the options, the diffusion, the
    trainer's checkpoint layout, torchdiffeq) is the official code as it is.
  * The RRDBNet stage: `make_model` on conf/rrdbnet-df2k.yaml with the RRDB sizes of `tiny`
    (16 features, growth 8, 2 blocks, head on block [1]), two training steps as `Trainer.train_one`
    takes them, saved as `Trainer.save_state` writes it (rrdbnet_checkpoint.pt), then
    `pretrained-rrdbnet-df2k.pt` extracted exactly as the official README does.
  * The ECDP stage: `make_model` on conf/ecdp-df2k-train.yaml with the same sizes (the ECDP
    constructor loads pretrained-rrdbnet-df2k.pt from the working directory, as officially),
    three training steps (warm-up 1 and param_running_avg 10, as the fine-tune confs, so that
    `model_avg` visibly differs from `model`), saved as `Trainer.save_state` writes it
    (ecdp_checkpoint.pt: model, model_avg, optim_model, sched_model, sample_fixed_latent, epoch,
    epoch_length).
  * torchvision's `resize` default for tensors as it was when the official models were trained
    (no antialiasing, torchvision <= 0.16); see the note in the code below.
  * With the EMA model (`model_avg`, as `Trainer.test_one` uses it) and a fixed LR image and
    starting noise: `Diffusion.generate` in ODE mode (torchdiffeq `odeint_adjoint`, dopri5,
    atol = rtol = 1e-3, jump_t = [0.1]), in DDIM mode (300 steps) and in ancestral mode, with the
    network evaluations counted; the network's outputs for fixed inputs; and the training loss
    of a fixed batch with recorded times and noise.
Writes Tests/Fixtures/official/*.pt and official_reference.json.
"""
import json, os, shutil, sys, tempfile
import torch

official = os.path.abspath(sys.argv[1])
here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "official")
os.makedirs(out, exist_ok=True)

work = tempfile.mkdtemp(prefix="ecdp-official-")
shutil.copytree(os.path.join(official, "lib"), os.path.join(work, "lib"))
unet = os.path.join(work, "lib", "model", "unet.py")
src = open(unet).read()
for old, new in [("self.in_conv = MyConv2d(num_channels, 64, 3, padding=1)", "self.in_conv = MyConv2d(num_channels, 16, 3, padding=1)"),
                 ("prev_channel = 64", "prev_channel = 16"),
                 ("channels = [64, 128, 256, 256]", "channels = [16, 32, 32]"),
                 ("num_blocks = [2, 2, 2, 2]", "num_blocks = [1, 1, 1]")]:
    assert src.count(old) == 1, old
    src = src.replace(old, new)
open(unet, "w").write(src)
os.chdir(work)
sys.path.insert(0, work)
# The official code resizes tensors with torchvision's `FV.resize` and no `antialias`
# argument. Up to torchvision 0.16 (the releases of 2023, when the official models were
# trained) that meant no antialiasing for tensors; 0.17 (January 2024) turned it on, which
# changes the bicubic mean μ(y) (antialiased bicubic uses a = -0.5) and every downsampled
# feature map. Restore the 2023 default rather than patch the official files.
import torchvision.transforms.functional as FV
_resize = FV.resize
def resize_as_in_torchvision_0_16(img, size, interpolation=FV.InterpolationMode.BILINEAR, max_size=None, antialias=None):
    return _resize(img, size, interpolation, max_size, antialias=False if antialias is None else antialias)
FV.resize = resize_as_in_torchvision_0_16
import yaml
from lib.options import dict_to_object
from lib.model import make_model
from lib.model.diffusion import Diffusion
from lib.lr_sched import LRScheduler
from torch import optim

torch.manual_seed(20261129)
conf = lambda name: yaml.safe_load(open(os.path.join(official, "conf", name)))
tiny_rrdb = {"rrdb_num_blocks": 2, "rrdb_network_features": 16, "rrdb_intermediate_features": 8}
SCALE, HR = 4, 32


def train_steps(model, options, optimizer, steps, model_avg=None):
    """Trainer.train_one's model update, `steps` times, on random HR crops and their LR."""
    sched = LRScheduler(optimizer, factor=options.train.lr_decay_factor, milestones=options.train.lr_decay_epochs,
                        warmup_steps=options.train.lr_warmup_steps)
    model.train()
    for _ in range(steps):
        image = torch.rand(2, 3, HR, HR)
        image_lr = torch.nn.functional.avg_pool2d(image, SCALE)
        optimizer.zero_grad(set_to_none=True)
        loss = model(image, image_lr, mode="loss").mean()
        loss.backward()
        torch.nn.utils.clip_grad_value_(model.parameters(), options.train.clip_grad_value)
        optimizer.step()
        sched.step()
        if model_avg is not None:
            with torch.no_grad():
                eps = 1 / options.train.param_running_avg
                for src, dst in zip(model.parameters(), model_avg.parameters()):
                    dst.mul_(1 - eps)
                    dst.add_(src, alpha=eps)
    return sched


def save_state(path, model, optimizer, sched, latent, model_avg=None):
    """Trainer.save_state's dictionary."""
    checkpoint = {"model": model.state_dict(), "optim_model": optimizer.state_dict(), "sched_model": sched.state_dict(),
                  "sample_fixed_latent": latent, "epoch": 0, "epoch_length": 215}
    if model_avg is not None:
        checkpoint["model_avg"] = model_avg.state_dict()
    torch.save(checkpoint, path)


# --- RRDBNet stage ---
c = conf("rrdbnet-df2k.yaml")
c["model"].update(tiny_rrdb, rrdb_block_selection=[1], rrdb_channels=16)
c["train"]["train_image_size"] = HR
ropt = dict_to_object(c)
rrdbnet = make_model(ropt)
rrdbnet.set_image_size((HR, HR))
r_optim = optim.Adam(rrdbnet.parameters(), lr=ropt.train.lr)
r_sched = train_steps(rrdbnet, ropt, r_optim, 2)
save_state(os.path.join(out, "rrdbnet_checkpoint.pt"), rrdbnet, r_optim, r_sched, rrdbnet(2, mode="sample-latent"))
s = torch.load(os.path.join(out, "rrdbnet_checkpoint.pt"), map_location=torch.device("cpu"))
t = {}
for k, v in s["model"].items():   # the official README's extraction
    if k.startswith("model."):
        t[k[6:]] = v
torch.save(t, os.path.join(out, "pretrained-rrdbnet-df2k.pt"))
shutil.copy(os.path.join(out, "pretrained-rrdbnet-df2k.pt"), work)   # where ECDP's constructor looks

# --- ECDP stage ---
c = conf("ecdp-df2k-train.yaml")
c["model"].update(tiny_rrdb, rrdb_block_selection=[0, 1], rrdb_channels=32)
c["train"].update(train_image_size=HR, lr_warmup_steps=1, param_running_avg=10)
eopt = dict_to_object(c)
model = make_model(eopt)
model.set_image_size((HR, HR))
model_avg = make_model(eopt)
model_avg.load_state_dict(model.state_dict())
e_optim = optim.Adam([{"params": model.model.diffusion.parameters()},
                      {"params": model.model.lr_feats.parameters(), "lr": 1e-5}], lr=eopt.train.lr)
e_sched = train_steps(model, eopt, e_optim, 3, model_avg)
latent = model(2, mode="sample-latent")
save_state(os.path.join(out, "ecdp_checkpoint.pt"), model, e_optim, e_sched, latent, model_avg)

# --- Sampling with the EMA model, as Trainer.test_one does (no gradients) ---
ref = {"generator": "Tests/Fixtures/generate_official_fixtures.py", "torch": torch.__version__,
       "state_dict_keys": list(model.state_dict().keys()),
       "rrdbnet_state_dict_keys": list(rrdbnet.state_dict().keys())}
as_json = lambda x: {"shape": list(x.shape), "values": [float(v) for v in x.reshape(-1).tolist()]}
nfe = [0]
diffusion = model_avg.model.diffusion
diffusion.network.register_forward_pre_hook(lambda *_: nfe.__setitem__(0, nfe[0] + 1))
model_avg.eval()
lr = torch.rand(1, 3, 4, 6)
h, w = 4 * SCALE, 6 * SCALE
x_T = torch.randn(1, 3, h, w)
ref["lr"], ref["x_T"] = as_json(lr), as_json(x_T)
with torch.no_grad(), model_avg.with_image_size((h, w)):
    model_avg.model.set_generate_steps(300)
    for mode in ["ode", "ddim", "ancestral"]:
        diffusion.use_ode, diffusion.ddim = mode == "ode", mode == "ddim"
        nfe[0] = 0
        image = model_avg(x_T.reshape(1, -1), lr, mode="generate")
        ref[mode] = {"nfe": nfe[0], "image": as_json(image)}
        print(f"{mode}: {nfe[0]} network evaluations")
    # The network itself on fixed inputs.
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([37.5, 250.0])
    y = torch.rand(2, 3, 4, 4)
    feats = model_avg.model.lr_feats(y)
    ref["forward"] = {k: as_json(v) for k, v in {"x": x, "t": t, "lr": y, "features": feats,
                                                  "prediction": diffusion.network(x, t, feats),
                                                  "flow_t150": diffusion.ode_func(x, torch.tensor(150.0), feats)}.items()}
# The training loss (`ECDP._calculate_loss` → `Diffusion.normalize`, training mode) on a fixed
# batch: the times are its own first draw after the seed, the noise is fixed by replacing the
# module's `make_rand_like`.
import lib.model.diffusion as official_diffusion
hr_batch, lr_batch = torch.rand(2, 3, 16, 24), torch.rand(2, 3, 4, 6)
noise = torch.randn(2, 3, 16, 24)
official_diffusion.make_rand_like = lambda x: noise
model_avg.train()
torch.manual_seed(7)
times = torch.rand(2) * 300
torch.manual_seed(7)
with torch.no_grad():
    per_sample = model_avg(hr_batch, lr_batch, mode="loss")
ref["loss"] = {k: as_json(v) for k, v in {"hr": hr_batch, "lr": lr_batch, "noise": noise, "t": times,
                                           "per_sample": per_sample}.items()}
print("loss per sample", per_sample.tolist())
with open(os.path.join(here, "official_reference.json"), "w") as f:
    json.dump(ref, f)
shutil.rmtree(work)
print("wrote", sorted(os.listdir(out)), "and official_reference.json")
