// Separable resampling of NCHW planes with PyTorch's `interpolate` semantics
// (align_corners = false, no antialias). Every mode is a table of taps per output
// index; the forward filters along W then H, the backward is the exact transpose.
import Foundation

/// Interpolation modes of `Resample`.
public enum ResampleMode: Sendable, Equatable {
    /// Nearest neighbour: source `floor(dst · in/out)` (PyTorch's legacy `nearest`).
    case nearest
    /// Bilinear, source `(dst + 0.5)·in/out − 0.5` clamped below at 0.
    case bilinear
    /// Bicubic, Keys kernel with a = −0.75, four taps clamped to the border.
    case bicubic
}

/// Taps along one axis: for output index o, `count` (index, weight) pairs.
public struct ResampleTaps: Sendable {
    public let count: Int
    public let index: [Int]
    public let weight: [Float]

    public init(mode: ResampleMode, input: Int, output: Int) {
        let scale = Float(input) / Float(output)
        var index: [Int] = [], weight: [Float] = []
        switch mode {
        case .nearest:
            count = 1
            for o in 0..<output {
                index.append(min(Int((Float(o) * scale).rounded(.down)), input - 1)); weight.append(1)
            }
        case .bilinear:
            count = 2
            for o in 0..<output {
                let src = max(scale * (Float(o) + 0.5) - 0.5, 0)
                let i0 = Int(src), l1 = src - Float(i0)
                index += [i0, i0 < input - 1 ? i0 + 1 : i0]
                weight += [1 - l1, l1]
            }
        case .bicubic:
            count = 4
            let a: Float = -0.75
            func near(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
            func far(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
            for o in 0..<output {
                let src = scale * (Float(o) + 0.5) - 0.5
                let i0 = Int(src.rounded(.down)), t = src - Float(i0)
                for k in -1...2 { index.append(min(max(i0 + k, 0), input - 1)) }
                weight += [far(t + 1), near(t), near(1 - t), far(2 - t)]
            }
        }
        self.index = index
        self.weight = weight
    }
}

public enum Resample {
    /// x `[planes, H, W]` → y `[planes, Ho, Wo]`.
    public static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, planes: Int,
                               height: Int, width: Int, outHeight: Int, outWidth: Int, mode: ResampleMode) {
        let ty = ResampleTaps(mode: mode, input: height, output: outHeight)
        let tx = ResampleTaps(mode: mode, input: width, output: outWidth)
        Parallel.forEach(chunks: planes, work: planes * outHeight * outWidth * ty.count * 2) { p in
            let src = x + p * height * width, dst = y + p * outHeight * outWidth
            let tmp = UnsafeMutablePointer<Float>.allocate(capacity: height * outWidth)
            defer { tmp.deallocate() }
            tx.index.withUnsafeBufferPointer { xi in
                tx.weight.withUnsafeBufferPointer { xw in
                    for h in 0..<height {
                        let row = src + h * width, out = tmp + h * outWidth
                        for o in 0..<outWidth {
                            var s: Float = 0
                            for k in 0..<tx.count { s += xw[o * tx.count + k] * row[xi[o * tx.count + k]] }
                            out[o] = s
                        }
                    }
                }
            }
            for o in 0..<outHeight {
                let out = dst + o * outWidth
                out.update(repeating: 0, count: outWidth)
                for k in 0..<ty.count {
                    let w = ty.weight[o * ty.count + k], row = tmp + ty.index[o * ty.count + k] * outWidth
                    for i in 0..<outWidth { out[i] += w * row[i] }
                }
            }
        }
    }

    /// The transpose of `forward`: dy `[planes, Ho, Wo]` → dx `[planes, H, W]` (overwritten).
    public static func backward(dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, planes: Int,
                                height: Int, width: Int, outHeight: Int, outWidth: Int, mode: ResampleMode) {
        let ty = ResampleTaps(mode: mode, input: height, output: outHeight)
        let tx = ResampleTaps(mode: mode, input: width, output: outWidth)
        Parallel.forEach(chunks: planes, work: planes * outHeight * outWidth * ty.count * 2) { p in
            let g = dy + p * outHeight * outWidth, d = dx + p * height * width
            let tmp = UnsafeMutablePointer<Float>.allocate(capacity: height * outWidth)
            defer { tmp.deallocate() }
            tmp.update(repeating: 0, count: height * outWidth)
            for o in 0..<outHeight {
                let gr = g + o * outWidth
                for k in 0..<ty.count {
                    let w = ty.weight[o * ty.count + k], row = tmp + ty.index[o * ty.count + k] * outWidth
                    for i in 0..<outWidth { row[i] += w * gr[i] }
                }
            }
            d.update(repeating: 0, count: height * width)
            tx.index.withUnsafeBufferPointer { xi in
                tx.weight.withUnsafeBufferPointer { xw in
                    for h in 0..<height {
                        let row = d + h * width, t = tmp + h * outWidth
                        for o in 0..<outWidth {
                            for k in 0..<tx.count { row[xi[o * tx.count + k]] += xw[o * tx.count + k] * t[o] }
                        }
                    }
                }
            }
        }
    }
}
