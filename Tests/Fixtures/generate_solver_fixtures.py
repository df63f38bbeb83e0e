#!/usr/bin/env python3
"""Reference step sequences of torchdiffeq's `dopri5` for tests/ECDPTests/SolverTests.swift.

Regenerate (needs torch and torchdiffeq; numbers below came from torchdiffeq 0.2.5):
    python3 -m venv .venv-bench && .venv-bench/bin/pip install torch torchdiffeq
    .venv-bench/bin/python Tests/Fixtures/generate_solver_fixtures.py
Writes Tests/Fixtures/solver_reference.json: for each case, every attempted step
(start time, size, accepted) as torchdiffeq's callbacks report it, the number of
function evaluations, and the solution at the end time. The solver is torchdiffeq's own
`odeint`; nothing here re-implements it.
"""
import json, os, math
import torch
import torchdiffeq

torch.set_default_dtype(torch.float32)


class Recorder(torch.nn.Module):
    """f(t, y) with torchdiffeq's step callbacks recorded."""

    def __init__(self, rhs):
        super().__init__()
        self.rhs, self.nfe, self.steps = rhs, 0, []

    def forward(self, t, y):
        self.nfe += 1
        return self.rhs(t, y)

    def callback_accept_step(self, t0, y0, dt):
        self.steps.append([float(t0), float(dt), True])

    def callback_reject_step(self, t0, y0, dt):
        self.steps.append([float(t0), float(dt), False])


def gaussian(t, y):          # y' = -2 t y  ->  y(t) = y0 exp(-t^2)
    return -2 * t * y


def relaxation(t, y):        # y' = -k (y - t(1 - t)) with k = 30, 60, 120: stiff enough for rejections
    k = torch.tensor([30.0, 60.0, 120.0])   # (a polynomial in t: a transcendental would be rounded differently)
    return -k * (y - t * (1 - t))


y_gauss = torch.tensor([1.0, -0.5, 2.0])
y_relax = torch.tensor([2.0, -1.0, 0.5])
cases = [
    # name, rhs, y0, t0, t1, tol, jump at the end
    ("gaussian_1e-3_jump", gaussian, y_gauss, 0.0, 1.5, 1e-3, True),
    ("gaussian_1e-5_jump", gaussian, y_gauss, 0.0, 1.5, 1e-5, True),
    ("gaussian_1e-3_overshoot", gaussian, y_gauss, 0.0, 1.5, 1e-3, False),
    ("gaussian_backward_1e-4_jump", gaussian, y_gauss * math.exp(-1.0), 1.0, 0.0, 1e-4, True),
    ("relaxation_1e-4_jump", relaxation, y_relax, 0.0, 2.0, 1e-4, True),
    ("relaxation_1e-3_overshoot", relaxation, y_relax, 0.5, 2.0, 1e-3, False),
]
out = {"torchdiffeq": torchdiffeq.__version__, "cases": {}}
for name, rhs, y0, t0, t1, tol, jump in cases:
    f = Recorder(rhs)
    options = {"jump_t": torch.tensor([t1])} if jump else None
    y = torchdiffeq.odeint(f, y0, torch.tensor([t0, t1]), rtol=tol, atol=tol, method="dopri5", options=options)[1]
    out["cases"][name] = {"rhs": rhs.__name__, "y0": y0.tolist(), "t0": t0, "t1": t1, "tol": tol, "jump": jump,
                          "nfe": f.nfe, "steps": f.steps, "y1": y.tolist()}
    print(f"{name}: {len(f.steps)} steps ({sum(not s[2] for s in f.steps)} rejected), nfe {f.nfe}")
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "solver_reference.json")
with open(path, "w") as fh:
    json.dump(out, fh, indent=1)
print("wrote", path)
