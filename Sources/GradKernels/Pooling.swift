// Max pooling with a square window, any stride, PyTorch's floor or ceil output size and
// no padding (VGG's 2×2/2, AlexNet's 3×3/2, SqueezeNet's 3×3/2 with ceil_mode). Windows
// that run past the border are clipped. Ties go to the first element in row-major
// order and NaN propagates, as in PyTorch.

public enum Pooling {
    /// Output length along one axis: ⌊(n − k)/s⌋ + 1, or with `ceilMode` ⌈(n − k)/s⌉ + 1
    /// unless that window would start past the input (PyTorch's rule).
    public static func outputLength(_ n: Int, kernel k: Int, stride s: Int, ceilMode: Bool) -> Int {
        precondition(n >= k, "pooling window \(k) is larger than the input \(n)")
        var out = (ceilMode ? (n - k + s - 1) / s : (n - k) / s) + 1
        if ceilMode && (out - 1) * s >= n { out -= 1 }
        return out
    }

    /// x `[planes, H, W]` → y `[planes, Ho, Wo]`, with the argmax offset within each plane
    /// saved in `index` for the backward.
    public static func maxPoolForward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, index: UnsafeMutablePointer<Int32>,
                                      planes: Int, height: Int, width: Int, kernel: Int, stride: Int,
                                      outHeight ho: Int, outWidth wo: Int) {
        Parallel.forEach(chunks: planes, work: planes * ho * wo * kernel * kernel) { p in
            let src = x + p * height * width, dst = y + p * ho * wo, idx = index + p * ho * wo
            for oy in 0..<ho {
                let y0 = oy * stride, y1 = min(y0 + kernel, height)
                for ox in 0..<wo {
                    let x0 = ox * stride, x1 = min(x0 + kernel, width)
                    var best = y0 * width + x0
                    var v = src[best]
                    for iy in y0..<y1 {
                        for ix in x0..<x1 {
                            let o = iy * width + ix
                            // Strict > keeps the first of equal maxima; a NaN wins (the last one, as PyTorch).
                            if src[o] > v || src[o].isNaN { v = src[o]; best = o }
                        }
                    }
                    dst[oy * wo + ox] = v
                    idx[oy * wo + ox] = Int32(best)
                }
            }
        }
    }

    /// Scatters dy into dx (zeroed here) at the saved argmax positions.
    public static func maxPoolBackward(dy: UnsafePointer<Float>, index: UnsafePointer<Int32>, dx: UnsafeMutablePointer<Float>,
                                       planes: Int, height: Int, width: Int, outHeight ho: Int, outWidth wo: Int) {
        dx.update(repeating: 0, count: planes * height * width)
        Parallel.forEach(chunks: planes, work: planes * ho * wo) { p in
            let g = dy + p * ho * wo, idx = index + p * ho * wo, d = dx + p * height * width
            for i in 0..<(ho * wo) { d[Int(idx[i])] += g[i] }
        }
    }
}
