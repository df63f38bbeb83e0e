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

/// How one boundary condition x̃_T of a fixed size starts an image of another size
/// (docs/boundary-condition.md measures them). Images no larger than x̃_T crop it under
/// every policy; they differ on larger ones.
public enum StartingNoisePolicy: String, Sendable, CaseIterable {
    /// x_T is x̃_T repeated periodically over the image.
    case periodic
    /// Tiled sampling, tiles of x̃_T's size, each one started from x̃_T itself, blended
    /// across the overlap.
    case tiled
    /// x̃_T in the top-left corner, fresh N(0, I) noise elsewhere.
    case randomFill = "random-fill"
}

extension ECDPModel {
    /// Super-resolves `lr` `[1, 3, h, w]` from a boundary condition `xT` `[1, 3, s, s]` of any
    /// size s, fitted to the output size by `policy` (`overlap` in LR pixels, for `tiled`).
    public func superResolve(_ lr: Tensor, boundaryCondition xT: Tensor, policy: StartingNoisePolicy, overlap: Int,
                             sampler: Sampler, scale: Int, using rng: inout RandomGenerator) throws -> (image: Tensor, evaluations: Int) {
        let (H, W) = (lr.shape[2] * scale, lr.shape[3] * scale)
        let (s0, s1) = (xT.shape[2], xT.shape[3])
        if H == s0 && W == s1 { return try superResolve(lr, startingNoise: xT, sampler: sampler, using: &rng) }
        func periodic(_ y0: Int, _ x0: Int, _ h: Int, _ w: Int) -> Tensor {
            let v = xT.scalars
            var out = [Float](repeating: 0, count: 3 * h * w)
            for c in 0..<3 { for y in 0..<h { for x in 0..<w { out[(c * h + y) * w + x] = v[(c * s0 + (y0 + y) % s0) * s1 + (x0 + x) % s1] } } }
            return Tensor(out, shape: [1, 3, h, w])
        }
        switch policy {
        case .periodic:
            return try superResolve(lr, startingNoise: periodic(0, 0, H, W), sampler: sampler, using: &rng)
        case .randomFill:
            var field = Tensor.randomNormal([1, 3, H, W], using: &rng).scalars
            let v = xT.scalars
            for c in 0..<3 { for y in 0..<min(H, s0) { for x in 0..<min(W, s1) { field[(c * H + y) * W + x] = v[(c * s0 + y) * s1 + x] } } }
            return try superResolve(lr, startingNoise: Tensor(field, shape: [1, 3, H, W]), sampler: sampler, using: &rng)
        case .tiled:
            guard H > s0 || W > s1 else { return try superResolve(lr, startingNoise: periodic(0, 0, H, W), sampler: sampler, using: &rng) }
            let tile = min(s0, s1) / scale
            let tiling = Tiling(tile: tile, overlap: min(overlap, tile - 1))
            return try TiledSuperResolution.sample(model: self, lr: lr, scale: scale, sampler: sampler, tiling: tiling, using: &rng) {
                _, _, h, w in periodic(0, 0, h, w)
            }
        }
    }

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
