#!/usr/bin/env python3
"""DPM-Solver multistep reference states from the reference implementation itself.

Regenerate (torch; the committed file came from torch 2.15 and dpm-solver commit
52bc3fbcd5de56d60917b826b15d2b69460fc2fa):
    git clone https://github.com/LuChengTHU/dpm-solver /tmp/dpm-solver
    .venv-bench/bin/python Tests/Fixtures/generate_dpm_solver_fixtures.py /tmp/dpm-solver/dpm_solver_pytorch.py

The model is analytic: data x0 ~ N(mu, diag(s^2)) per element, so the exact noise prediction
is eps*(x, t) = sqrt(1 - abar) (x - sqrt(abar) mu) / (abar s^2 + 1 - abar). The reference runs
`DPM_Solver(model_wrapper(eps*, NoiseScheduleVP('linear', 0.1, 20), model_type='noise'),
algorithm_type='dpmsolver').sample(x_T, steps, t_start=1, t_end=0.1/300, order, skip_type='logSNR',
method='multistep', lower_order_final=True, return_intermediate=True)` - times in its units
(ours / 300) - and every intermediate state is recorded. Writes dpm_solver_reference.json.
"""
import importlib.util, json, os, sys
import torch

spec = importlib.util.spec_from_file_location("dpm_solver_pytorch", sys.argv[1])
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)

# Float64 throughout (the reference's time grid comes from torch.linspace in the default
# dtype): the recorded states are then exact to ~1e-12 and the comparison measures our Float32.
torch.set_default_dtype(torch.float64)
torch.manual_seed(20261129)
n = 48
mu = torch.randn(n, dtype=torch.float64)
s = torch.tensor([[0.1, 0.3, 0.7, 1.0, 1.5, 2.0][i % 6] for i in range(n)], dtype=torch.float64)
x_T = torch.randn(1, n, dtype=torch.float64)
ns = ref.NoiseScheduleVP('linear', continuous_beta_0=0.1, continuous_beta_1=20., dtype=torch.float64)


def eps_star(x, t, **_):
    abar = torch.exp(2 * ns.marginal_log_mean_coeff(t)).to(torch.float64)[:, None]
    return (1 - abar).sqrt() * (x - abar.sqrt() * mu) / (abar * s * s + 1 - abar)


out = {"dpm_solver_commit": "52bc3fbcd5de56d60917b826b15d2b69460fc2fa", "torch": torch.__version__,
       "mu": mu.tolist(), "s": s.tolist(), "x_T": x_T.reshape(-1).tolist(), "runs": []}
for order in [2, 3]:
    for steps in [6, 10, 20]:
        solver = ref.DPM_Solver(ref.model_wrapper(eps_star, ns, model_type="noise"), ns, algorithm_type="dpmsolver")
        x, intermediates = solver.sample(x_T.clone(), steps=steps, t_start=1.0, t_end=0.1 / 300, order=order,
                                         skip_type="logSNR", method="multistep", lower_order_final=True,
                                         return_intermediate=True)
        out["runs"].append({"order": order, "steps": steps,
                            "states": [v.reshape(-1).tolist() for v in intermediates]})
        print(f"order {order}, {steps} steps: {len(intermediates)} states")
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "dpm_solver_reference.json"), "w") as f:
    json.dump(out, f)
