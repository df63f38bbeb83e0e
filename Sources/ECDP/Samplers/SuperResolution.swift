// Super-resolution with a trained model — the one entry that `ecdp upscale`, the demo,
// the trainer's sample grids and evaluation go through: x_T (already scaled by the
// temperature) → x_0 with any `Sampler`, then HR = μ + σ·x0 clipped to [0, 1]
// (docs/design.md §4), whole or tile by tile.
import Grad

/// Tiles for images too large to sample at once, in LR pixels.
public struct Tiling: Sendable, Equatable {
    public var tile: Int
    public var overlap: Int

    public init(tile: Int, overlap: Int) {
        precondition(tile >= 1 && overlap >= 0 && overlap < tile, "tiling needs tile ≥ 1 and 0 ≤ overlap < tile")
        self.tile = tile
        self.overlap = overlap
    }
}

extension ECDPModel {
    /// Super-resolves `lr` `[N, 3, h, w]` from the starting noise `xT` `[N, 3, H, W]` with
    /// `sampler`; with `tiling` (one image at a time), tile by tile from windows of the one
    /// global x_T. Returns the image and the number of network evaluations.
    public func superResolve(_ lr: Tensor, startingNoise xT: Tensor, sampler: Sampler, tiling: Tiling? = nil,
                             using rng: inout RandomGenerator) throws -> (image: Tensor, evaluations: Int) {
        if let tiling {
            return try TiledSuperResolution.sample(model: self, lr: lr, xT: xT, sampler: sampler, tiling: tiling, using: &rng)
        }
        return try withoutDerivatives {
            let feats = rrdb(lr)
            let (x0, nfe) = try sampler.run({ x, t in self.noiseEstimate(xt: x, time: t, lrFeatures: feats) },
                                            sde: diffusion.sde, xT: xT, using: &rng)
            return (image(residual: x0, lr: lr), nfe)
        }
    }

    /// The baseline every table compares against: μ(y) (PyTorch-semantics bicubic) clipped to [0, 1].
    public func bicubicBaseline(_ lr: Tensor, height: Int, width: Int) -> Tensor {
        withoutDerivatives { mean(lr: lr, height: height, width: width).clamped(to: 0, 1) }
    }
}
