// MATLAB-compatible `imresize(…, 'bicubic')`: the degradation every SR paper uses to make
// LR images. Keys' cubic with a = −0.5, an antialiasing (widened, scaled) kernel when
// shrinking, 1-based centre alignment u = x/s + ½(1 − 1/s), mirrored (symmetric)
// boundaries, weights normalized per output pixel, and the dimension with the smaller
// scale resized first. Weights and sums are computed in Double, as MATLAB does for
// double images.
//
// Unlike the model's bicubic (`Tensor.resized(…, mode: .bicubic)`, PyTorch semantics:
// a = −0.75, no antialias, clamped borders), this one low-pass filters when shrinking.
import Foundation
import Grad

public enum MatlabResize {
    /// Keys' cubic convolution kernel with a = −0.5 (MATLAB's `cubic`).
    static func cubic(_ x: Double) -> Double {
        let ax = abs(x), ax2 = ax * ax, ax3 = ax2 * ax
        if ax <= 1 { return 1.5 * ax3 - 2.5 * ax2 + 1 }
        if ax <= 2 { return -0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2 }
        return 0
    }

    /// Per output index, the (0-based input index, weight) pairs of MATLAB's `contributions`.
    static func contributions(input: Int, output: Int, scale: Double, antialias: Bool = true) -> [[(Int, Double)]] {
        let shrinking = scale < 1 && antialias
        let width = shrinking ? 4 / scale : 4
        let taps = Int(width.rounded(.up)) + 2
        return (1...output).map { x in
            let u = Double(x) / scale + 0.5 * (1 - 1 / scale)
            let left = Int((u - width / 2).rounded(.down))
            var pairs: [(Int, Double)] = []
            var total = 0.0
            for k in 0..<taps {
                let j = left + k  // 1-based, may fall outside [1, input]
                let w = shrinking ? scale * cubic(scale * (u - Double(j))) : cubic(u - Double(j))
                total += w
                // Mirror: aux = [1…n, n…1], index (j − 1) mod 2n.
                let period = 2 * input
                let m = ((j - 1) % period + period) % period
                pairs.append((m < input ? m : period - 1 - m, w))
            }
            return pairs.filter { $0.1 != 0 }.map { ($0.0, $0.1 / total) }
        }
    }

    /// Resizes by `scale` (e.g. 0.25 for ×4 downscaling): output size ⌈scale·size⌉.
    /// Accepts `[C, H, W]` or `[N, C, H, W]`.
    public static func resize(_ image: Tensor, scale: Double) -> Tensor {
        let h = image.shape[image.rank - 2], w = image.shape[image.rank - 1]
        let oh = Int((Double(h) * scale).rounded(.up)), ow = Int((Double(w) * scale).rounded(.up))
        return resize(image, height: oh, width: ow, scales: (scale, scale))
    }

    /// Resizes to `height × width` (scales out/in per axis, as MATLAB does for a size).
    public static func resize(_ image: Tensor, height: Int, width: Int) -> Tensor {
        let h = image.shape[image.rank - 2], w = image.shape[image.rank - 1]
        return resize(image, height: height, width: width, scales: (Double(height) / Double(h), Double(width) / Double(w)))
    }

    /// `imresize` of an 8-bit image (uint8 in, uint8 out): each of the two passes returns
    /// 8-bit values, rounded half to even (MATLAB's class-preserving passes, and the
    /// official ECDP code's port). Input values must be multiples of 1/255.
    public static func resize8Bit(_ image: Tensor, height: Int, width: Int) -> Tensor {
        let h = image.shape[image.rank - 2], w = image.shape[image.rank - 1]
        return resize(image, height: height, width: width, scales: (Double(height) / Double(h), Double(width) / Double(w)),
                      quantizingEachPass: true)
    }

    /// `resize8Bit` by a scale (output size ⌈scale·size⌉).
    public static func resize8Bit(_ image: Tensor, scale: Double) -> Tensor {
        let h = image.shape[image.rank - 2], w = image.shape[image.rank - 1]
        return resize8Bit(image, height: Int((Double(h) * scale).rounded(.up)), width: Int((Double(w) * scale).rounded(.up)))
    }

    static func resize(_ image: Tensor, height oh: Int, width ow: Int, scales: (Double, Double),
                       quantizingEachPass: Bool = false) -> Tensor {
        precondition(image.rank == 3 || image.rank == 4, "imresize expects [C, H, W] or [N, C, H, W], got \(image.shape)")
        precondition(oh > 0 && ow > 0, "imresize to \(oh)×\(ow)")
        let h = image.shape[image.rank - 2], w = image.shape[image.rank - 1]
        let planes = image.count / (h * w)
        // 8-bit mode works on the integer values 0…255, exactly as uint8 arithmetic in
        // double: ties then round as MATLAB's do.
        var data = quantizingEachPass ? image.scalars.map { (Double($0) * 255).rounded() } : image.scalars.map(Double.init)
        var (ch, cw) = (h, w)
        // Smaller scale first; ties: rows (H) first, as MATLAB's stable sort does.
        let order = scales.1 < scales.0 ? [1, 0] : [0, 1]
        for axis in order {
            if axis == 0 {
                let table = contributions(input: ch, output: oh, scale: scales.0)
                var out = [Double](repeating: 0, count: planes * oh * cw)
                for p in 0..<planes {
                    for (o, pairs) in table.enumerated() {
                        let dst = (p * oh + o) * cw
                        for (i, wt) in pairs {
                            let src = (p * ch + i) * cw
                            for x in 0..<cw { out[dst + x] += wt * data[src + x] }
                        }
                    }
                }
                data = out; ch = oh
            } else {
                let table = contributions(input: cw, output: ow, scale: scales.1)
                var out = [Double](repeating: 0, count: planes * ch * ow)
                for r in 0..<(planes * ch) {
                    for (o, pairs) in table.enumerated() {
                        var s = 0.0
                        for (i, wt) in pairs { s += wt * data[r * cw + i] }
                        out[r * ow + o] = s
                    }
                }
                data = out; cw = ow
            }
            if quantizingEachPass { data = data.map { min(max($0, 0), 255).rounded(.toNearestOrEven) } }
        }
        var shape = image.shape
        shape[shape.count - 2] = oh; shape[shape.count - 1] = ow
        return Tensor(quantizingEachPass ? data.map { Float($0 / 255) } : data.map(Float.init), shape: shape)
    }
}
