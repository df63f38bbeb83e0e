// Super-resolution with a trained model and any `Sampler`: x_T (already scaled by the
// temperature) → x_0, then HR = μ + σ·x0, clipped to [0, 1] (docs/design.md §4).
import Grad

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
}
