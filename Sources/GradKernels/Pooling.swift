// Max pooling 2×2, stride 2 (VGG). Ties go to the first element in row-major order, as
// in PyTorch.

public enum Pooling {
    /// x `[planes, H, W]` → y `[planes, H/2, W/2]` (floor), with the argmax offset within
    /// each plane saved in `index` for the backward.
    public static func maxPool2x2Forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                                         index: UnsafeMutablePointer<Int32>, planes: Int, height: Int, width: Int) {
        let ho = height / 2, wo = width / 2
        Parallel.forEach(chunks: planes, work: planes * height * width) { p in
            let src = x + p * height * width, dst = y + p * ho * wo, idx = index + p * ho * wo
            for oy in 0..<ho {
                for ox in 0..<wo {
                    var best = Int32((2 * oy) * width + 2 * ox)
                    var v = src[Int(best)]
                    let base = Int(best)
                    // Candidates in row-major order; strict > keeps the first of equal maxima.
                    var o = base + 1
                    if src[o] > v || src[o].isNaN { v = src[o]; best = Int32(o) }
                    o = base + width
                    if src[o] > v || src[o].isNaN { v = src[o]; best = Int32(o) }
                    o = base + width + 1
                    if src[o] > v || src[o].isNaN { v = src[o]; best = Int32(o) }
                    dst[oy * wo + ox] = v; idx[oy * wo + ox] = best
                }
            }
        }
    }

    /// Scatters dy into dx (zeroed here) at the saved argmax positions.
    public static func maxPool2x2Backward(dy: UnsafePointer<Float>, index: UnsafePointer<Int32>,
                                          dx: UnsafeMutablePointer<Float>, planes: Int, height: Int, width: Int) {
        let ho = height / 2, wo = width / 2
        dx.update(repeating: 0, count: planes * height * width)
        for p in 0..<planes {
            let g = dy + p * ho * wo, idx = index + p * ho * wo, d = dx + p * height * width
            for i in 0..<(ho * wo) { d[Int(idx[i])] += g[i] }
        }
    }
}
