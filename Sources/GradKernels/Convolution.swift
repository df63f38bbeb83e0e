// 2-D convolution as im2col + sgemm, tiled into bands of output rows. Each thread takes
// whole bands: it writes the band's columns into its own cache-sized buffer and runs a
// single-threaded sgemm on them while they are still in L2, instead of one large im2col
// pass to memory followed by a threaded GEMM that streams it back (which also left
// OpenBLAS's idle threads spinning in sched_yield between calls). A 1×1 stride-1
// convolution needs no columns: a band is a column block of the input itself. The
// backward recomputes the columns instead of keeping them from the forward: the memory
// saved (k²× the input) is worth one more im2col pass.

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

    /// The units of parallel work: bands of output rows of one image, each small enough
    /// that its column matrix (patchSize × rows·Wo) stays in a core's L2 cache while the
    /// GEMM reads it. Bands of an image have equal height (the last may be shorter), and
    /// depend only on the geometry, so results do not depend on the thread count.
    var bands: [ConvBand] {
        let ho = outHeight, wo = outWidth
        let columnBudget = max(wo, Convolution.bandFloats / max(1, patchSize))
        let rows = Convolution.bandRows(total: ho, budget: columnBudget / max(1, wo), batch: batch)
        return Convolution.bands(batch: batch, rows: ho, rowsPerBand: rows)
    }
}

/// Rows `firstRow..<firstRow+rows` of image `image`: output rows for im2col, rows of
/// 2×2 output tiles for Winograd.
struct ConvBand {
    var image, firstRow, rows: Int
}

public enum Convolution {
    /// Target size of one band's column matrix in floats (default 2 MiB: half a typical L2).
    static var bandFloats: Int { KernelTuning.current.bandFloats }

    /// Rows per band: within the cache budget, and at least `minimumBands` bands over the
    /// batch so that small images (a 16² feature map at batch 1) still use every core.
    /// Bands are equal, so the threads' shares are too.
    static func bandRows(total: Int, budget: Int, batch: Int) -> Int {
        let perImage = max((total + max(1, budget) - 1) / max(1, budget), (minimumBands + batch - 1) / batch)
        let bands = min(total, perImage)
        return max(1, (total + bands - 1) / bands)
    }

    /// Lower bound on the bands of one convolution (for parallelism, see `bandRows`).
    static var minimumBands: Int { KernelTuning.current.minimumBands }

    /// Every image's `rows` split into bands of `rowsPerBand` (the last may be shorter).
    static func bands(batch: Int, rows: Int, rowsPerBand: Int) -> [ConvBand] {
        var result: [ConvBand] = []
        result.reserveCapacity(batch * ((rows + rowsPerBand - 1) / rowsPerBand))
        for n in 0..<batch {
            var r = 0
            while r < rows {
                result.append(ConvBand(image: n, firstRow: r, rows: min(rowsPerBand, rows - r)))
                r += rowsPerBand
            }
        }
        return result
    }

    /// Writes the columns of `band` into `cols`, laid out `[patchSize, ld]` (by default
    /// `ld` = rows·Wo: the band's columns alone).
    static func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, band: ConvBand,
                       into cols: UnsafeMutablePointer<Float>, ld: Int? = nil) {
        let wo = g.outWidth, ld = ld ?? band.rows * wo
        if g.stride == 1 && wo >= 8 && wo < narrowWidth {
            im2colNarrow(x, g, band: band, into: cols, ld: ld)
            return
        }
        let kk = g.kernelHeight * g.kernelWidth
        for c in 0..<g.inChannels {
            let plane = x + (band.image * g.inChannels + c) * g.height * g.width
            for k in 0..<kk {
                let ky = k / g.kernelWidth, kx = k % g.kernelWidth
                let dst = cols + (c * kk + k) * ld
                // Valid output columns: 0 <= ox·stride − pad + kx < W.
                let lo = min(wo, max(0, (g.padding - kx + g.stride - 1) / g.stride))
                let hi = max(lo, min(wo, (g.width + g.padding - kx + g.stride - 1) / g.stride))
                for r in 0..<band.rows {
                    let iy = (band.firstRow + r) * g.stride - g.padding + ky
                    let row = dst + r * wo
                    if iy < 0 || iy >= g.height {
                        for i in 0..<wo { row[i] = 0 }
                        continue
                    }
                    let src = plane + iy * g.width - g.padding + kx
                    for i in 0..<lo { row[i] = 0 }
                    if g.stride == 1 {
                        for i in lo..<hi { row[i] = src[i] }
                    } else {
                        for i in lo..<hi { row[i] = src[i * g.stride] }
                    }
                    for i in hi..<wo { row[i] = 0 }
                }
            }
        }
    }

    /// Below this output width `im2col` (stride 1) goes through `im2colNarrow`: rows of
    /// 8–31 values left the general loop mostly in its bounds logic and scalar tails (a
    /// quarter of a 1 × 128 → 128 convolution at 8², forward + backward, in a profile).
    /// Forward + backward with it, interleaved in one process (30 rounds, medians):
    /// 1 × 128 → 128 at 8² 1.20 → 0.92 ms, 4 × 128 → 128 at 8² 4.38 → 3.52, 1 × 128 → 128
    /// at 16² 3.20 → 2.82, 1 × 96 → 32 at 16² 1.32 → 0.88.
    static var narrowWidth: Int { KernelTuning.current.narrowWidth }

    /// `im2col` for stride 1 and outputs 8–31 wide: each input plane's band rows are copied
    /// once into a zero-padded scratch plane, so every column row is `wo` consecutive
    /// values of it, copied eight at a time (the last eight overlapping).
    static func im2colNarrow(_ x: UnsafePointer<Float>, _ g: ConvGeometry, band: ConvBand,
                             into cols: UnsafeMutablePointer<Float>, ld: Int) {
        let wo = g.outWidth, kh = g.kernelHeight, kw = g.kernelWidth, p = g.padding
        let paddedWidth = max(g.width + 2 * p, wo + kw - 1), paddedRows = band.rows + kh - 1
        Workspace.withBuffer(count: paddedWidth * paddedRows) { padded in
            for c in 0..<g.inChannels {
                let plane = x + (band.image * g.inChannels + c) * g.height * g.width
                padded.update(repeating: 0, count: paddedWidth * paddedRows)
                for r in 0..<paddedRows {
                    let iy = band.firstRow + r - p
                    guard iy >= 0 && iy < g.height else { continue }
                    (padded + r * paddedWidth + p).update(from: plane + iy * g.width, count: g.width)
                }
                for ky in 0..<kh {
                    for kx in 0..<kw {
                        let dst = cols + (c * kh * kw + ky * kw + kx) * ld
                        for r in 0..<band.rows {
                            let src = padded + (r + ky) * paddedWidth + kx, row = dst + r * wo
                            var i = 0
                            while i + 8 <= wo {
                                Winograd.store(Winograd.load8(src + i), row + i)
                                i += 8
                            }
                            if i < wo { Winograd.store(Winograd.load8(src + wo - 8), row + wo - 8) }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: accumulates the columns of `band` into `dx`.
    static func col2im(_ cols: UnsafePointer<Float>, _ g: ConvGeometry, band: ConvBand,
                       into dx: UnsafeMutablePointer<Float>) {
        let wo = g.outWidth, ld = band.rows * wo
        let kk = g.kernelHeight * g.kernelWidth
        for c in 0..<g.inChannels {
            let plane = dx + (band.image * g.inChannels + c) * g.height * g.width
            for k in 0..<kk {
                let ky = k / g.kernelWidth, kx = k % g.kernelWidth
                let src = cols + (c * kk + k) * ld
                let lo = min(wo, max(0, (g.padding - kx + g.stride - 1) / g.stride))
                let hi = max(lo, min(wo, (g.width + g.padding - kx + g.stride - 1) / g.stride))
                for r in 0..<band.rows {
                    let iy = (band.firstRow + r) * g.stride - g.padding + ky
                    if iy < 0 || iy >= g.height { continue }
                    let row = src + r * wo
                    let dst = plane + iy * g.width - g.padding + kx
                    for i in lo..<hi { dst[i * g.stride] += row[i] }
                }
            }
        }
    }

    /// Calls `body` with the column matrix of `band` and its row stride: the input itself
    /// for a pointwise convolution, else im2col into a per-call workspace buffer.
    private static func withColumns<R>(_ x: UnsafePointer<Float>, _ g: ConvGeometry, band: ConvBand,
                                       _ body: (UnsafePointer<Float>, Int) -> R) -> R {
        let hw = g.outHeight * g.outWidth, wo = g.outWidth
        if g.isPointwise {
            return body(x + band.image * g.inChannels * hw + band.firstRow * wo, hw)
        }
        return Workspace.withBuffer(count: g.patchSize * band.rows * wo) { cols in
            im2col(x, g, band: band, into: cols)
            return body(UnsafePointer(cols), band.rows * wo)
        }
    }

    /// The kernel path `forward` takes for `g` under the current `KernelTuning`: "pointwise",
    /// "im2col", "im2col-whole-batch", "winograd-f2", "winograd-f2-whole" or "winograd-f4"
    /// (for benchmarks and tests; for stride 1 and square kernels the backward's dX takes
    /// the forward path of the transposed geometry).
    public static func forwardPath(_ g: ConvGeometry) -> String {
        if Winograd.isApplicable(g) {
            let bands = Winograd.bands(g)
            if Winograd.fitsWhole(g, bands: bands) { return "winograd-f2-whole" }
            return WinogradF4.pays(g) ? "winograd-f4" : "winograd-f2"
        }
        if usesWholeBatch(g) { return "im2col-whole-batch" }
        return g.isPointwise ? "pointwise" : "im2col"
    }

    /// `y = conv(x, w) + bias`. x `[N, Cin, H, W]`, w `[Cout, Cin, kh, kw]`, bias `[Cout]`
    /// or nil, y `[N, Cout, Ho, Wo]`.
    public static func forward(x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                               _ g: ConvGeometry) {
        if Winograd.isApplicable(g) {
            Winograd.forward(x: x, weight: w, bias: bias, y: y, g)
            return
        }
        if usesWholeBatch(g) {
            forwardWholeBatch(x: x, weight: w, bias: bias, y: y, g)
            return
        }
        let hw = g.outHeight * g.outWidth, wo = g.outWidth
        let cout = g.outChannels, k = g.patchSize
        let bands = g.bands
        Parallel.forEach(chunks: bands.count, work: cout * k * g.batch * hw / 8) { i in
            let band = bands[i]
            withColumns(x, g, band: band) { cols, ld in
                let out = y + band.image * cout * hw + band.firstRow * wo
                BLAS.sgemm(m: cout, n: band.rows * wo, k: k, a: w, lda: k, b: cols, ldb: ld, c: out, ldc: hw)
                if let bias {
                    for c in 0..<cout {
                        let row = out + c * hw, b = bias[c]
                        for j in 0..<(band.rows * wo) { row[j] += b }
                    }
                }
            }
        }
    }

    /// Gradients of `forward`. Each of `dx`, `dw`, `db` is computed when non-nil and
    /// overwritten (not accumulated).
    public static func backward(x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                                dy: UnsafePointer<Float>, _ g: ConvGeometry,
                                dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?,
                                db: UnsafeMutablePointer<Float>?) {
        let hw = g.outHeight * g.outWidth, wo = g.outWidth
        let cout = g.outChannels, k = g.patchSize
        if let db {
            for c in 0..<cout {
                var s: Float = 0
                for n in 0..<g.batch { s += Reduce.sum(dy + (n * cout + c) * hw, count: hw) }
                db[c] = s
            }
        }
        if let dw {
            if Winograd.isApplicable(g) {
                Winograd.weightGradient(x: x, dy: dy, g, into: dw)
            } else if usesWholeBatch(g) {
                weightGradientWholeBatch(x: x, dy: dy, g, into: dw)
            } else {
                weightGradient(x: x, dy: dy, g, into: dw)
            }
        }
        guard let dx else { return }
        if g.isPointwise {
            // dX = Wᵀ · dY, band by band.
            let bands = g.bands
            Parallel.forEach(chunks: bands.count, work: cout * k * g.batch * hw / 8) { i in
                let band = bands[i], offset = band.firstRow * wo
                BLAS.sgemm(transA: true, m: k, n: band.rows * wo, k: cout, a: w, lda: k,
                           b: dy + band.image * cout * hw + offset, ldb: hw,
                           c: dx + band.image * k * hw + offset, ldc: hw)
            }
        } else if g.stride == 1, g.kernelHeight == g.kernelWidth, g.padding <= g.kernelHeight - 1 {
            // dX is the convolution of dY with the flipped, transposed kernel at padding
            // k − 1 − p: the forward's GEMM shape and no scatter-add.
            transposedInputGradient(dy: dy, weight: w, g, into: dx)
        } else {
            // Columns = Wᵀ · dY per band, scattered back by col2im. Bands of one image
            // overlap in dX, so an image's bands run in order on one thread.
            dx.update(repeating: 0, count: g.batch * g.inChannels * g.height * g.width)
            let bands = g.bands
            Parallel.forEach(chunks: g.batch, work: cout * k * g.batch * hw / 8) { n in
                for band in bands where band.image == n {
                    Workspace.withBuffer(count: k * band.rows * wo) { cols in
                        BLAS.sgemm(transA: true, m: k, n: band.rows * wo, k: cout, a: w, lda: k,
                                   b: dy + n * cout * hw + band.firstRow * wo, ldb: hw,
                                   c: cols, ldc: band.rows * wo)
                        col2im(cols, g, band: band, into: dx)
                    }
                }
            }
        }
    }

    /// Whether to use one column matrix of the whole batch instead of bands: on small maps
    /// with many channels (128 channels at 8² for one image) a band is a few pixels wide,
    /// and every band's GEMM packs the whole weight matrix (Cout × Cin·9) again for a
    /// product 16 columns wide; its dW summed as many Cout × Cin·9 partials. The columns
    /// of all images together (`KernelTuning.wholeBatchFloats` at most) are smaller than
    /// the weights there, so they are built once and the GEMMs split by output channels
    /// (forward) or by patch rows (dW) instead. Used where a band is at most a quarter of
    /// Cout wide (`KernelTuning.wholeBatchChannelsPerBandPixel`'s default): 128 → 128 at
    /// 8², one image, forward + backward 1.59 → 1.39 ms (`ecdp bench conv`, medians of
    /// three alternating runs); at 16² (bands half of Cout) it was slower, 2.96 → 3.38 ms.
    static func usesWholeBatch(_ g: ConvGeometry) -> Bool {
        guard !g.isPointwise, g.outHeight > 0, g.outWidth > 0 else { return false }
        let bandPixels = g.bands.map(\.rows).max().map { $0 * g.outWidth } ?? 0
        let tuning = KernelTuning.current
        return tuning.wholeBatchChannelsPerBandPixel * bandPixels <= g.outChannels
            && g.patchSize * g.batch * g.outHeight * g.outWidth <= tuning.wholeBatchFloats
    }

    /// Blocks each whole-batch GEMM is split into: a function of the geometry only (not of
    /// the thread count), so results do not depend on the threads; each block packs the
    /// other operand in full, so more blocks than the two cores cost packing.
    static func wholeBatchBlocks(_ rows: Int) -> Int { rows >= 32 ? 2 : 1 }

    /// The columns of every image into one `[patchSize, N·Ho·Wo]` matrix, then `body(cols)`.
    private static func withWholeBatchColumns<R>(_ x: UnsafePointer<Float>, _ g: ConvGeometry,
                                                 _ body: (UnsafePointer<Float>) -> R) -> R {
        let hw = g.outHeight * g.outWidth, pixels = g.batch * hw
        return Workspace.withBuffer(count: g.patchSize * pixels) { cols in
            Parallel.forEach(chunks: g.batch, work: g.patchSize * pixels) { n in
                im2col(x, g, band: ConvBand(image: n, firstRow: 0, rows: g.outHeight), into: cols + n * hw, ld: pixels)
            }
            return body(UnsafePointer(cols))
        }
    }

    /// `forward` on one column matrix of the batch (see `usesWholeBatch`): Y = W · cols
    /// by blocks of output channels, into `y` directly for one image, else through a
    /// `[Cout, N·Ho·Wo]` buffer.
    static func forwardWholeBatch(x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                                  bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let hw = g.outHeight * g.outWidth, pixels = g.batch * hw, cout = g.outChannels, k = g.patchSize
        withWholeBatchColumns(x, g) { cols in
            Workspace.withBuffer(count: g.batch > 1 ? cout * pixels : 0) { buffer in
                let out = g.batch > 1 ? buffer : y
                let blocks = wholeBatchBlocks(cout)
                Parallel.forEach(chunks: blocks, work: cout * k * pixels) { i in
                    let lo = cout * i / blocks, hi = cout * (i + 1) / blocks
                    BLAS.sgemm(m: hi - lo, n: pixels, k: k, a: w + lo * k, lda: k, b: cols, ldb: pixels,
                               c: out + lo * pixels, ldc: pixels)
                    guard g.batch > 1 || bias != nil else { return }
                    for c in lo..<hi {
                        let b = bias?[c] ?? 0
                        for n in 0..<g.batch {
                            let src = out + c * pixels + n * hw, dst = y + (n * cout + c) * hw
                            for j in 0..<hw { dst[j] = src[j] + b }
                        }
                    }
                }
            }
        }
    }

    /// dW = dY · colsᵀ on one column matrix of the batch (see `usesWholeBatch`), by blocks
    /// of patch rows; dY is gathered into `[Cout, N·Ho·Wo]` first when there are several
    /// images.
    static func weightGradientWholeBatch(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, _ g: ConvGeometry,
                                         into dw: UnsafeMutablePointer<Float>) {
        let hw = g.outHeight * g.outWidth, pixels = g.batch * hw, cout = g.outChannels, k = g.patchSize
        withWholeBatchColumns(x, g) { cols in
            Workspace.withBuffer(count: g.batch > 1 ? cout * pixels : 0) { buffer in
                if g.batch > 1 {
                    for c in 0..<cout {
                        for n in 0..<g.batch {
                            (buffer + c * pixels + n * hw).update(from: dy + (n * cout + c) * hw, count: hw)
                        }
                    }
                }
                let gathered = g.batch > 1 ? UnsafePointer(buffer) : dy
                let blocks = wholeBatchBlocks(k)
                Parallel.forEach(chunks: blocks, work: cout * k * pixels) { i in
                    let lo = k * i / blocks, hi = k * (i + 1) / blocks
                    BLAS.sgemm(transB: true, m: cout, n: hi - lo, k: pixels, a: gathered, lda: pixels,
                               b: cols + lo * pixels, ldb: pixels, c: dw + lo, ldc: k)
                }
            }
        }
    }

    /// dW = Σ over bands of dY_band · columns_bandᵀ, summed by `sumInGroups`.
    static func weightGradient(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, _ g: ConvGeometry,
                               into dw: UnsafeMutablePointer<Float>) {
        let hw = g.outHeight * g.outWidth, wo = g.outWidth
        let cout = g.outChannels, k = g.patchSize
        let bands = g.bands
        sumInGroups(terms: bands.count, size: cout * k, work: cout * k * g.batch * hw / 8, into: dw) { i, target, overwrite in
            let band = bands[i]
            withColumns(x, g, band: band) { cols, ld in
                BLAS.sgemm(transB: true, m: cout, n: k, k: band.rows * wo,
                           a: dy + band.image * cout * hw + band.firstRow * wo, lda: hw,
                           b: cols, ldb: ld, beta: overwrite ? 0 : 1, c: target, ldc: k)
            }
        }
    }

    /// `result` = Σ of `terms` terms of `size` floats, each added by `add(term, target,
    /// overwrite)` (which overwrites `target` when `overwrite`). The terms are split into a
    /// fixed number of groups (from `terms`, not the thread count), each summed into its
    /// own partial in parallel; the partials are then added in order, so every element
    /// gets the same bits however many threads ran. No terms: zero.
    static func sumInGroups(terms: Int, size: Int, work: Int, into result: UnsafeMutablePointer<Float>,
                            _ add: (_ term: Int, _ target: UnsafeMutablePointer<Float>, _ overwrite: Bool) -> Void) {
        let groups = min(terms, 8)
        guard groups > 0 else {
            result.update(repeating: 0, count: size)
            return
        }
        Workspace.withBuffer(count: max(1, groups - 1) * size) { partials in
            Parallel.forEach(chunks: groups, work: work) { j in
                let target = j == 0 ? result : partials + (j - 1) * size
                let lo = terms * j / groups, hi = terms * (j + 1) / groups
                for i in lo..<hi { add(i, target, i == lo) }
            }
            guard groups > 1 else { return }
            Parallel.forRanges(count: size) { r in
                for j in 0..<(groups - 1) {
                    let p = partials + j * size
                    for i in r { result[i] += p[i] }
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
}
