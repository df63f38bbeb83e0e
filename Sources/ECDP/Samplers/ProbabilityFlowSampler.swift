// Sampling by the probability-flow ODE (SPEC §6) with a fixed-step Runge–Kutta method:
// x_T ~ N(0, τ²I) at t = 300, integrated to t = 0.1, then HR = μ + σ·x0, clipped.
// (The adaptive Dormand–Prince solver, DDIM and DPM-Solver come with issue #7.)

public enum ProbabilityFlowSampler {
    /// Super-resolves `lr` `[N, 3, h, w]` from the starting noise `xT` `[N, 3, H, W]`
    /// (already scaled by the temperature). Returns the image and the evaluations used.
    public static func sample(model: ECDPModel, lr: Tensor, xT: Tensor, steps: Int,
                              tableau: ButcherTableau = .rk4, endTime: Double = 0.1) -> (image: Tensor, evaluations: Int) {
        withoutDerivatives {
            let feats = model.rrdb(lr)
            let (x0, nfe) = FixedStepSolver.integrate({ x, t in model.probabilityFlow(x: x, time: t, lrFeatures: feats) },
                                                      from: xT, t0: model.sde.horizon, t1: endTime, steps: steps, tableau: tableau)
            return (model.image(residual: x0, lr: lr), nfe)
        }
    }
}
