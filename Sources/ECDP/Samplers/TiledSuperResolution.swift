// Tiled super-resolution (`ECDPModel.superResolve(…, tiling:)`) for images too large to process at once: the LR image is cut
// into overlapping tiles, each tile is sampled from its window of ONE global noise
// field x_T (so neighbouring tiles start from the same noise where they overlap), and
// the results are blended with weights that ramp linearly across each overlap.
import Grad

enum TiledSuperResolution {
    /// Tile origins along one axis: tiles of `tile` pixels stepping by `tile − overlap`,
    /// the last one flush with the end.
    static func origins(length: Int, tile: Int, overlap: Int) -> [Int] {
        guard length > tile else { return [0] }
        let step = max(1, tile - overlap)
        var starts = Array(stride(from: 0, to: length - tile, by: step))
        starts.append(length - tile)
        return starts
    }

    /// Blend weight of position i in a tile of n pixels whose edges overlap others by
    /// `ramp` pixels: rises linearly over the first `ramp` pixels, falls over the last.
    static func weight(_ i: Int, _ n: Int, ramp: Int) -> Float {
        guard ramp > 0 else { return 1 }
        let r = Float(ramp)
        return min(1, (Float(i) + 0.5) / r, (Float(n - i) - 0.5) / r)
    }

    /// Super-resolves `lr` `[1, 3, h, w]` tile by tile. `xT` `[1, 3, H, W]` is the global
    /// starting noise at the output size, an integer multiple of the input's.
    static func sample(model: ECDPModel, lr: Tensor, xT: Tensor, sampler: Sampler, tiling: Tiling,
                       using rng: inout RandomGenerator) throws -> (image: Tensor, evaluations: Int) {
        let scale = xT.shape[2] / lr.shape[2]
        precondition(xT.shape == [1, 3, lr.shape[2] * scale, lr.shape[3] * scale],
                     "x_T has shape \(xT.shape), expected [1, 3, \(lr.shape[2] * scale), \(lr.shape[3] * scale)]")
        return try sample(model: model, lr: lr, scale: scale, sampler: sampler, tiling: tiling, using: &rng) { y, x, th, tw in
            xT.slice(start: [0, 0, y, x], size: [1, 3, th, tw])
        }
    }

    /// The same with each tile's starting noise from `noise(y, x, height, width)` (output
    /// pixels): a window of one global field, or one x̃_T for every tile.
    static func sample(model: ECDPModel, lr: Tensor, scale: Int, sampler: Sampler, tiling: Tiling,
                       using rng: inout RandomGenerator, noise: (Int, Int, Int, Int) -> Tensor) throws -> (image: Tensor, evaluations: Int) {
        precondition(lr.shape[0] == 1, "tiled sampling takes one image at a time")
        let (tile, overlap) = (tiling.tile, tiling.overlap)
        let (h, w) = (lr.shape[2], lr.shape[3])
        let (H, W) = (h * scale, w * scale)
        var sum = [Float](repeating: 0, count: 3 * H * W), total = [Float](repeating: 0, count: H * W)
        var evaluations = 0
        for y0 in origins(length: h, tile: tile, overlap: overlap) {
            for x0 in origins(length: w, tile: tile, overlap: overlap) {
                let th = min(tile, h), tw = min(tile, w)
                let lrTile = lr.slice(start: [0, 0, y0, x0], size: [1, 3, th, tw])
                let tileNoise = noise(y0 * scale, x0 * scale, th * scale, tw * scale)
                let (out, nfe) = try model.superResolve(lrTile, startingNoise: tileNoise, sampler: sampler, using: &rng)
                evaluations += nfe
                let values = out.scalars
                let (oh, ow) = (th * scale, tw * scale), ramp = overlap * scale
                for yy in 0..<oh {
                    let wy = weight(yy, oh, ramp: ramp)
                    for xx in 0..<ow {
                        let wt = wy * weight(xx, ow, ramp: ramp)
                        let p = (y0 * scale + yy) * W + x0 * scale + xx
                        total[p] += wt
                        for c in 0..<3 { sum[c * H * W + p] += wt * values[(c * oh + yy) * ow + xx] }
                    }
                }
            }
        }
        for c in 0..<3 { for p in 0..<(H * W) { sum[c * H * W + p] /= total[p] } }
        return (Tensor(sum, shape: [1, 3, H, W]), evaluations)
    }
}
