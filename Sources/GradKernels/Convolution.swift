// 2-D convolution as im2col + one sgemm per batch chunk (a 1×1 stride-1 convolution is
// a plain sgemm per image, no im2col). The backward recomputes the columns instead of
// keeping them from the forward: the memory saved (k²× the input) is worth one more
// im2col pass.

/// Geometry of a 2-D convolution over NCHW data.
public struct ConvGeometry: Sendable, Equatable {
    public var batch, inChannels, height, width: Int
    public var outChannels, kernelHeight, kernelWidth: Int
    public var stride, padding: Int

    public init(batch: Int, inChannels: Int, height: Int, width: Int,
                outChannels: Int, kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int) {
        self.batch = batch; self.inChannels = inChannels; self.height = height; self.width = width
        self.outChannels = outChannels; self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.stride = stride; self.padding = padding
    }

    public var outHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    /// Rows of the column matrix: Cin·kh·kw.
    public var patchSize: Int { inChannels * kernelHeight * kernelWidth }
    var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 }

    /// Images per chunk so that a chunk's column matrix stays near 32 MiB.
    var imagesPerChunk: Int {
        let perImage = patchSize * outHeight * outWidth
        return max(1, min(batch, (8 << 20) / max(1, perImage)))
    }
}

public enum Convolution {
    /// Writes the columns of images `n0..<n0+count` into `cols` laid out
    /// `[patchSize, count · Ho·Wo]` (image-major inside a row).
    static func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, images n0: Int, count: Int,
                       into cols: UnsafeMutablePointer<Float>) {
        let ho = g.outHeight, wo = g.outWidth, hw = ho * wo
        let ldc = count * hw
        let kk = g.kernelHeight * g.kernelWidth
        let rows = g.patchSize
        Parallel.forEach(chunks: g.inChannels, work: rows * ldc) { c in
            for n in 0..<count {
                let plane = x + ((n0 + n) * g.inChannels + c) * g.height * g.width
                for k in 0..<kk {
                    let ky = k / g.kernelWidth, kx = k % g.kernelWidth
                    let dst = cols + (c * kk + k) * ldc + n * hw
                    for oy in 0..<ho {
                        let iy = oy * g.stride - g.padding + ky
                        let row = dst + oy * wo
                        if iy < 0 || iy >= g.height {
                            row.update(repeating: 0, count: wo)
                            continue
                        }
                        let src = plane + iy * g.width
                        if g.stride == 1 {
                            // Valid output columns: 0 <= ox - pad + kx < W.
                            let lo = max(0, g.padding - kx), hi = min(wo, g.width + g.padding - kx)
                            if lo > 0 { row.update(repeating: 0, count: lo) }
                            if hi > lo { (row + lo).update(from: src + (lo - g.padding + kx), count: hi - lo) }
                            if hi < wo { (row + max(hi, lo)).update(repeating: 0, count: wo - max(hi, lo)) }
                        } else {
                            for ox in 0..<wo {
                                let ix = ox * g.stride - g.padding + kx
                                row[ox] = (ix >= 0 && ix < g.width) ? src[ix] : 0
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: accumulates columns back into `dx` (which the caller zeroed).
    static func col2im(_ cols: UnsafePointer<Float>, _ g: ConvGeometry, images n0: Int, count: Int,
                       into dx: UnsafeMutablePointer<Float>) {
        let ho = g.outHeight, wo = g.outWidth, hw = ho * wo
        let ldc = count * hw
        let kk = g.kernelHeight * g.kernelWidth
        Parallel.forEach(chunks: g.inChannels, work: g.patchSize * ldc) { c in
            for n in 0..<count {
                let plane = dx + ((n0 + n) * g.inChannels + c) * g.height * g.width
                for k in 0..<kk {
                    let ky = k / g.kernelWidth, kx = k % g.kernelWidth
                    let src = cols + (c * kk + k) * ldc + n * hw
                    for oy in 0..<ho {
                        let iy = oy * g.stride - g.padding + ky
                        if iy < 0 || iy >= g.height { continue }
                        let row = src + oy * wo
                        let dst = plane + iy * g.width
                        if g.stride == 1 {
                            let lo = max(0, g.padding - kx), hi = min(wo, g.width + g.padding - kx)
                            if hi > lo {
                                let d = dst + (lo - g.padding + kx), s = row + lo
                                for i in 0..<(hi - lo) { d[i] += s[i] }
                            }
                        } else {
                            for ox in 0..<wo {
                                let ix = ox * g.stride - g.padding + kx
                                if ix >= 0 && ix < g.width { dst[ix] += row[ox] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `y = conv(x, w) + bias`. x `[N, Cin, H, W]`, w `[Cout, Cin, kh, kw]`, bias `[Cout]`
    /// or nil, y `[N, Cout, Ho, Wo]`.
    public static func forward(x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                               _ g: ConvGeometry) {
        let hw = g.outHeight * g.outWidth
        let cout = g.outChannels, k = g.patchSize
        if g.isPointwise {
            for n in 0..<g.batch {
                BLAS.sgemm(m: cout, n: hw, k: k, a: w, lda: k,
                           b: x + n * k * hw, ldb: hw, c: y + n * cout * hw, ldc: hw)
            }
        } else {
            let chunk = g.imagesPerChunk
            Workspace.withBuffer(count: k * chunk * hw) { cols in
            Workspace.withBuffer(count: chunk > 1 ? cout * chunk * hw : 1) { out in
            var n0 = 0
            while n0 < g.batch {
                let count = min(chunk, g.batch - n0)
                im2col(x, g, images: n0, count: count, into: cols)
                if count == 1 {
                    BLAS.sgemm(m: cout, n: hw, k: k, a: w, lda: k, b: cols, ldb: hw,
                               c: y + n0 * cout * hw, ldc: hw)
                } else {
                    // out is [Cout, count·HW]; scatter to [count, Cout, HW].
                    BLAS.sgemm(m: cout, n: count * hw, k: k, a: w, lda: k, b: cols, ldb: count * hw,
                               c: out, ldc: count * hw)
                    for n in 0..<count {
                        for c in 0..<cout {
                            (y + ((n0 + n) * cout + c) * hw).update(from: out + c * count * hw + n * hw, count: hw)
                        }
                    }
                }
                n0 += count
            }
            }
            }
        }
        if let bias { addChannelBias(bias, to: y, batch: g.batch, channels: cout, plane: hw) }
    }

    /// Gradients of `forward`. Each of `dx`, `dw`, `db` is computed when non-nil and
    /// overwritten (not accumulated).
    public static func backward(x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                                dy: UnsafePointer<Float>, _ g: ConvGeometry,
                                dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?,
                                db: UnsafeMutablePointer<Float>?) {
        let hw = g.outHeight * g.outWidth
        let cout = g.outChannels, k = g.patchSize
        if let db {
            for c in 0..<cout {
                var s: Float = 0
                for n in 0..<g.batch { s += Reduce.sum(dy + (n * cout + c) * hw, count: hw) }
                db[c] = s
            }
        }
        if g.isPointwise {
            for n in 0..<g.batch {
                let dyn = dy + n * cout * hw
                if let dw {
                    // dW += dY_n · X_nᵀ
                    BLAS.sgemm(transB: true, m: cout, n: k, k: hw, a: dyn, lda: hw,
                               b: x + n * k * hw, ldb: hw, beta: n == 0 ? 0 : 1, c: dw, ldc: k)
                }
                if let dx {
                    BLAS.sgemm(transA: true, m: k, n: hw, k: cout, a: w, lda: k, b: dyn, ldb: hw,
                               c: dx + n * k * hw, ldc: hw)
                }
            }
            return
        }
        // Stride 1 with padding p ≤ k − 1: dX is the convolution of dY with the flipped,
        // transposed kernel at padding k − 1 − p. Same FLOPs as Wᵀ·dY + col2im, but its
        // GEMM has the forward's better shape and there is no scatter-add.
        var dx = dx
        if let target = dx, g.stride == 1, g.kernelHeight == g.kernelWidth, g.padding <= g.kernelHeight - 1 {
            transposedInputGradient(dy: dy, weight: w, g, into: target)
            dx = nil
        }
        if let dx { dx.update(repeating: 0, count: g.batch * g.inChannels * g.height * g.width) }
        guard dx != nil || dw != nil else { return }
        let chunk = g.imagesPerChunk
        Workspace.withBuffer(count: k * chunk * hw) { cols in
        Workspace.withBuffer(count: chunk > 1 ? cout * chunk * hw : 1) { dyc in
        var n0 = 0
        while n0 < g.batch {
            let count = min(chunk, g.batch - n0)
            let ld = count * hw
            // dY for this chunk as [Cout, count·HW].
            let dyChunk: UnsafePointer<Float>
            if count == 1 {
                dyChunk = dy + n0 * cout * hw
            } else {
                for n in 0..<count {
                    for c in 0..<cout {
                        (dyc + c * ld + n * hw).update(from: dy + ((n0 + n) * cout + c) * hw, count: hw)
                    }
                }
                dyChunk = UnsafePointer(dyc)
            }
            if let dw {
                im2col(x, g, images: n0, count: count, into: cols)
                BLAS.sgemm(transB: true, m: cout, n: k, k: ld, a: dyChunk, lda: ld, b: cols, ldb: ld,
                           beta: n0 == 0 ? 0 : 1, c: dw, ldc: k)
            }
            if let dx {
                BLAS.sgemm(transA: true, m: k, n: ld, k: cout, a: w, lda: k, b: dyChunk, ldb: ld,
                           c: cols, ldc: ld)
                col2im(cols, g, images: n0, count: count, into: dx)
            }
            n0 += count
        }
        }
        }
    }

    /// dX for stride 1 as a forward convolution of dY with W′[ci, co, i, j] =
    /// W[co, ci, k−1−i, k−1−j] at padding k − 1 − p.
    static func transposedInputGradient(dy: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                                        _ g: ConvGeometry, into dx: UnsafeMutablePointer<Float>) {
        let k = g.kernelHeight, kk = k * k
        let flipped = UnsafeMutablePointer<Float>.allocate(capacity: g.outChannels * g.inChannels * kk)
        defer { flipped.deallocate() }
        for co in 0..<g.outChannels {
            for ci in 0..<g.inChannels {
                let src = w + (co * g.inChannels + ci) * kk, dst = flipped + (ci * g.outChannels + co) * kk
                for t in 0..<kk { dst[t] = src[kk - 1 - t] }
            }
        }
        let t = ConvGeometry(batch: g.batch, inChannels: g.outChannels, height: g.outHeight, width: g.outWidth,
                             outChannels: g.inChannels, kernelHeight: k, kernelWidth: k, stride: 1,
                             padding: k - 1 - g.padding)
        forward(x: dy, weight: flipped, bias: nil, y: dx, t)
    }

    /// `y[n, c, :] += bias[c]`.
    public static func addChannelBias(_ bias: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>,
                                      batch: Int, channels: Int, plane: Int) {
        Parallel.forEach(chunks: batch * channels, work: batch * channels * plane) { i in
            let b = bias[i % channels], p = y + i * plane
            for j in 0..<plane { p[j] += b }
        }
    }
}
