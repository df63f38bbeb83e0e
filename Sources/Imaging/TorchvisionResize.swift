// torchvision's antialiased bicubic resize (`resize(img, size, BICUBIC, antialias=True)` on
// a float tensor, i.e. PyTorch's `interpolate(mode="bicubic", antialias=True)`): the
// degradation of the BC paper's random-patch sets. Keys' cubic with a = −0.5 stretched by
// the scale when shrinking (as PIL), window centred at (i + ½)·in/out and clipped to the
// image (no mirroring — the difference from MATLAB's imresize, which mirrors), weights
// normalized per output pixel; width first, then height. Computed in Double, no rounding.
import Foundation
import Grad

public enum TorchvisionResize {
    static func cubic(_ x: Double) -> Double {
        let a = -0.5, ax = abs(x)
        if ax < 1 { return ((a + 2) * ax - (a + 3)) * ax * ax + 1 }
        if ax < 2 { return (((ax - 5) * ax + 8) * ax - 4) * a }
        return 0
    }

    /// Per output index, the (input index, weight) pairs.
    static func weights(input: Int, output: Int) -> [[(Int, Double)]] {
        let scale = Double(input) / Double(output)
        let support = scale >= 1 ? 2 * scale : 2
        let invScale = scale >= 1 ? 1 / scale : 1
        return (0..<output).map { i in
            let center = scale * (Double(i) + 0.5)
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), input)
            var pairs = (lo..<hi).map { j in (j, cubic((Double(j) - center + 0.5) * invScale)) }
            let total = pairs.reduce(0) { $0 + $1.1 }
            if total != 0 { pairs = pairs.map { ($0.0, $0.1 / total) } }
            return pairs
        }
    }

    /// `[C, H, W]` → `[C, height, width]`.
    public static func resize(_ image: Tensor, height oh: Int, width ow: Int) -> Tensor {
        precondition(image.rank == 3 && oh > 0 && ow > 0, "resize expects [C, H, W] and a positive size")
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        let data = image.scalars.map(Double.init)
        let columns = weights(input: w, output: ow), rows = weights(input: h, output: oh)
        var wide = [Double](repeating: 0, count: c * h * ow)
        for r in 0..<(c * h) {
            for (o, pairs) in columns.enumerated() {
                wide[r * ow + o] = pairs.reduce(0) { $0 + $1.1 * data[r * w + $1.0] }
            }
        }
        var out = [Float](repeating: 0, count: c * oh * ow)
        for p in 0..<c {
            for (o, pairs) in rows.enumerated() {
                for x in 0..<ow {
                    out[(p * oh + o) * ow + x] = Float(pairs.reduce(0) { $0 + $1.1 * wide[(p * h + $1.0) * ow + x] })
                }
            }
        }
        return Tensor(out, shape: [c, oh, ow])
    }
}
