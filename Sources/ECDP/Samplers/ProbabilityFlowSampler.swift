// Super-resolution with a trained model and any `Sampler`: x_T (already scaled by the
// temperature) → x_0, then HR = μ + σ·x0, clipped to [0, 1] (SPEC §6).

public enum ProbabilityFlowSampler {
    /// Super-resolves `lr` `[N, 3, h, w]` from `xT` `[N, 3, H, W]` with `sampler`.
    public static func sample(model: ECDPModel, lr: Tensor, xT: Tensor, sampler: Sampler,
                              using rng: inout RandomGenerator) throws -> (image: Tensor, evaluations: Int) {
        try withoutDerivatives {
            let feats = model.rrdb(lr)
            let (x0, nfe) = try sampler.run({ x, t in model.noiseEstimate(xt: x, time: t, lrFeatures: feats) },
                                            sde: model.sde, xT: xT, using: &rng)
            return (model.image(residual: x0, lr: lr), nfe)
        }
    }

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
