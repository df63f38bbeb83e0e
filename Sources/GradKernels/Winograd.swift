// 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray,
// "Fast Algorithms for Convolutional Neural Networks", 2016).
//
// Each 2×2 output tile is A·[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·Aᵀ over the 4×4 input tile d around it,
// so the 9 multiply-adds per output and input channel of a direct convolution become 4
// (16 per 4 outputs): the products for one of the 16 tile positions ξ over all tiles are
// one GEMM, U[ξ] (Cout × Cin) · V[ξ] (Cin × tiles). Against im2col + GEMM that is 2.25×
// fewer FLOPs and 4× instead of 9× the input written to scratch. The transforms use only
// ±1 and ½, so the rounding error stays at a few ulps of the direct sum.
//
// Work is split into bands of tile rows of one image, sized so that a band's V and M
// matrices stay in L2; each thread transforms, multiplies and transforms back one band.

enum Winograd {
    /// Whether `forward` handles this geometry: 3×3, stride 1, enough channels for the
    /// per-position GEMMs (K = Cin) to run well; the first convolution (Cin = 3) stays
    /// with im2col, whose K = 27.
    static func isApplicable(_ g: ConvGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1 && g.padding <= 2
            && g.inChannels >= 16 && g.outChannels >= 8 && g.outHeight > 0 && g.outWidth > 0
            && pixels(g) >= minimumPixels && work(g) >= (pixels(g) >= manyPixels ? minimumWorkOnManyPixels : minimumWork)
    }

    /// Output pixels over all images.
    static func pixels(_ g: ConvGeometry) -> Int { g.batch * g.outHeight * g.outWidth }

    /// Where Winograd pays, measured with `ecdp bench conv` and `ecdp bench train`: its
    /// fixed costs grow with the weights (16·Cout·Cin transformed values, U packed per
    /// band) and its savings with pixels × channels. At 128 → 128 channels, 16² maps
    /// were slower than im2col (1.8 against 2.1 ms forward + backward) and 32² faster;
    /// at 256 channels already 20² was faster (7.5 → 6.0 ms); the RRDB's 32-channel
    /// growth convolutions at 40² (1600 pixels, Cin 64–192) are much faster (the
    /// paper-size step took 3170 ms with them on im2col, 2790 with Winograd).
    static var minimumPixels: Int { KernelTuning.current.winogradMinimumPixels }
    static var minimumWork: Int { KernelTuning.current.winogradMinimumWork }

    /// From `manyPixels` output pixels a quarter of the work suffices: with F(4×4) on
    /// unpacked GEMMs, thin convolutions over many pixels pay too — the RRDB's growth
    /// convolutions at batch 4 (4 × 32 → 16 at 16², forward + backward 0.99 → 0.83 ms;
    /// 4 × 48 → 16: 1.08 → 0.85), 1 × 32 → 32 at 32² (1.06 → 0.74). Measured interleaved in
    /// one process (30 rounds each, medians), where separate runs were too noisy. Below it
    /// im2col stayed faster (1 × 64 → 128 at 16²: 1.87 against 2.33 ms; 128 channels at 8²).
    static var manyPixels: Int { KernelTuning.current.winogradManyPixels }
    static var minimumWorkOnManyPixels: Int { KernelTuning.current.winogradMinimumWorkOnManyPixels }

    /// Pixels × max(Cin, Cout): what Winograd's savings grow with.
    static func work(_ g: ConvGeometry) -> Int { pixels(g) * max(g.inChannels, g.outChannels) }

    /// Bands of tile rows (a `ConvBand`'s rows are tile rows here), sized so that a
    /// band's V and M matrices fit `Convolution.bandFloats`.
    static func bands(_ g: ConvGeometry) -> [ConvBand] {
        let tilesY = (g.outHeight + 1) / 2, tilesX = (g.outWidth + 1) / 2
        let tilesPerBand = Convolution.bandFloats / (16 * (g.inChannels + g.outChannels))
        let rows = Convolution.bandRows(total: tilesY, budget: tilesPerBand / tilesX, batch: g.batch)
        return Convolution.bands(batch: g.batch, rows: tilesY, rowsPerBand: rows)
    }

    /// U[ξ][co][ci] = (G·w[co, ci]·Gᵀ)[ξ], ξ = 4·row + column of the 4×4 transform;
    /// eight input channels at a time (gathered taps, contiguous stores).
    static func transformWeights(_ w: UnsafePointer<Float>, outChannels: Int, inChannels: Int,
                                 into u: UnsafeMutablePointer<Float>) {
        let stride = outChannels * inChannels
        Parallel.forEach(chunks: outChannels, work: 16 * stride) { co in
            let base = w + co * inChannels * 9, out = u + co * inChannels
            var ci = 0
            while ci + 8 <= inChannels {
                let q = base + ci * 9
                kernelTransform({ j in
                    SIMD8(q[j], q[9 + j], q[18 + j], q[27 + j], q[36 + j], q[45 + j], q[54 + j], q[63 + j])
                }, { xi, value in store(value, out + xi * stride + ci) })
                ci += 8
            }
            while ci < inChannels {
                let q = base + ci * 9
                kernelTransform({ j in SIMD2(q[j], 0) }, { xi, value in out[xi * stride + ci] = value[0] })
                ci += 1
            }
        }
    }

    /// G·g·Gᵀ for a 3×3 kernel g (`tap(j)`, j = 3·row + column), G = [1 0 0; ½ ½ ½;
    /// ½ −½ ½; 0 0 1]: `emit(ξ, value)` for the 16 entries, lane by lane.
    @inline(__always)
    static func kernelTransform<V: SIMD>(_ tap: (Int) -> V, _ emit: (Int, V) -> Void) where V.Scalar == Float {
        let half = V(repeating: 0.5)
        @inline(__always) func column(_ j: Int) -> (V, V, V, V) {
            let a0 = tap(j), a1 = tap(3 + j), a2 = tap(6 + j)
            return (a0, half * (a0 + a1 + a2), half * (a0 - a1 + a2), a2)
        }
        @inline(__always) func row(_ i: Int, _ b0: V, _ b1: V, _ b2: V) {
            emit(4 * i, b0)
            emit(4 * i + 1, half * (b0 + b1 + b2))
            emit(4 * i + 2, half * (b0 - b1 + b2))
            emit(4 * i + 3, b2)
        }
        let c0 = column(0), c1 = column(1), c2 = column(2)
        row(0, c0.0, c1.0, c2.0)
        row(1, c0.1, c1.1, c2.1)
        row(2, c0.2, c1.2, c2.2)
        row(3, c0.3, c1.3, c2.3)
    }

    /// `y = conv(x, w) + bias` for an applicable geometry (see `isApplicable`).
    static func forward(x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, _ g: ConvGeometry,
                        layout: Layout = .automatic) {
        let cin = g.inChannels, cout = g.outChannels
        let tilesX = (g.outWidth + 1) / 2
        let bands = bands(g)
        if case .automatic = layout, !fitsWhole(g, bands: bands), WinogradF4.pays(g) {
            WinogradF4.forward(x: x, weight: w, bias: bias, y: y, g)
            return
        }
        Workspace.withBuffer(count: 16 * cout * cin) { u in
            transformWeights(w, outChannels: cout, inChannels: cin, into: u)
            let uc = UnsafePointer(u)
            if layout.isWhole(g, bands: bands) {
                forwardWhole(x: x, u: uc, bias: bias, y: y, g)
                return
            }
            Parallel.forEach(chunks: bands.count, work: 8 * cout * cin * g.batch * g.outHeight * g.outWidth) { i in
                let band = bands[i], tiles = band.rows * tilesX
                let rowScratch = 16 * ((tilesX + 7) / 8 * 8)
                Workspace.withBuffer(count: 16 * (cin + cout) * tiles + rowScratch) { buffer in
                    let v = buffer, m = buffer + 16 * cin * tiles, scratch = m + 16 * cout * tiles
                    transformInput(x, g, band: band, channels: 0..<cin, into: v, ld: tiles, scratch: scratch)
                    for xi in 0..<16 {
                        BLAS.sgemm(m: cout, n: tiles, k: cin, a: uc + xi * cout * cin, lda: cin,
                                   b: v + xi * cin * tiles, ldb: tiles, c: m + xi * cout * tiles, ldc: tiles)
                    }
                    transformOutput(m, ld: tiles, g, band: band, channels: 0..<cout, bias: bias, into: y)
                }
            }
        }
    }

    /// Band by band, or the whole problem phase by phase; `automatic` picks by `fitsWhole`
    /// (the others exist so the tests can run both on the same geometry).
    enum Layout {
        case automatic, bands, whole

        func isWhole(_ g: ConvGeometry, bands: [ConvBand]) -> Bool {
            switch self {
            case .automatic: fitsWhole(g, bands: bands)
            case .bands: false
            case .whole: true
            }
        }
    }

    /// Whether to run the whole problem phase by phase — input transform by channel,
    /// the 16 GEMMs as 16 tasks, output transform by channel — instead of band by band:
    /// when the output channels exceed twice a band's tiles. Each band's 16 GEMMs pack U
    /// (Cout × Cin per position) again, and on a small map with many channels that
    /// outweighs a band's own work: 256 → 256 channels at 40² took 22.0 ms forward +
    /// backward in bands and 14.9 ms whole (PyTorch 21.0); at 128 channels on 16² maps
    /// (Cout = 2 × the band) bands were still faster, 4.3 against 4.9 ms.
    static func fitsWhole(_ g: ConvGeometry, bands: [ConvBand]) -> Bool {
        let bandTiles = max(1, totalTiles(g) / max(1, bands.count))
        return g.outChannels > 2 * bandTiles
    }

    static func totalTiles(_ g: ConvGeometry) -> Int {
        g.batch * ((g.outHeight + 1) / 2) * ((g.outWidth + 1) / 2)
    }

    /// An image as one band (the phases' unit of layout).
    static func wholeImage(_ g: ConvGeometry, _ n: Int) -> ConvBand {
        ConvBand(image: n, firstRow: 0, rows: (g.outHeight + 1) / 2)
    }

    /// Runs `body(image, channel, scratch)` for every image and channel, in parallel,
    /// with a ring scratch buffer for `transformInput`.
    private static func forEachImageChannel(_ g: ConvGeometry, channels: Int,
                                            _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let tilesX = (g.outWidth + 1) / 2, scratchCount = 16 * ((tilesX + 7) / 8 * 8)
        // A few tasks of consecutive (image, channel) pairs, one scratch buffer each: a task
        // per channel of an 8×8 map cost more in scheduling than its transform.
        let pairs = g.batch * channels, tasks = min(pairs, 16)
        Parallel.forEach(chunks: tasks, work: 16 * channels * totalTiles(g)) { t in
            Workspace.withBuffer(count: scratchCount) { scratch in
                for i in (pairs * t / tasks)..<(pairs * (t + 1) / tasks) { body(i / channels, i % channels, scratch) }
            }
        }
    }

    static func forwardWhole(x: UnsafePointer<Float>, u: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                             y: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let cin = g.inChannels, cout = g.outChannels, tiles = totalTiles(g), perImage = tiles / g.batch
        Workspace.withBuffer(count: 16 * (cin + cout) * tiles) { buffer in
            let v = buffer, m = buffer + 16 * cin * tiles
            forEachImageChannel(g, channels: cin) { n, ci, scratch in
                transformInput(x, g, band: wholeImage(g, n), channels: ci..<ci + 1, into: v + n * perImage,
                               ld: tiles, scratch: scratch)
            }
            Parallel.forEach(chunks: 16, work: 2 * cout * cin * tiles) { xi in
                BLAS.sgemm(m: cout, n: tiles, k: cin, a: u + xi * cout * cin, lda: cin,
                           b: v + xi * cin * tiles, ldb: tiles, c: m + xi * cout * tiles, ldc: tiles)
            }
            forEachImageChannel(g, channels: cout) { n, co, _ in
                transformOutput(m + n * perImage, ld: tiles, g, band: wholeImage(g, n), channels: co..<co + 1,
                                bias: bias, into: y)
            }
        }
    }

    static func weightGradientWhole(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, _ g: ConvGeometry,
                                    into dw: UnsafeMutablePointer<Float>) {
        let cin = g.inChannels, cout = g.outChannels, tiles = totalTiles(g), perImage = tiles / g.batch
        Workspace.withBuffer(count: 16 * (cin + cout) * tiles + 16 * cout * cin) { buffer in
            let v = buffer, e = buffer + 16 * cin * tiles, du = e + 16 * cout * tiles
            forEachImageChannel(g, channels: cin) { n, ci, scratch in
                transformInput(x, g, band: wholeImage(g, n), channels: ci..<ci + 1, into: v + n * perImage,
                               ld: tiles, scratch: scratch)
            }
            forEachImageChannel(g, channels: cout) { n, co, _ in
                transformOutputGradient(dy, g, band: wholeImage(g, n), channels: co..<co + 1, into: e + n * perImage,
                                        ld: tiles)
            }
            Parallel.forEach(chunks: 16, work: 2 * cout * cin * tiles) { xi in
                BLAS.sgemm(transB: true, m: cout, n: cin, k: tiles, a: e + xi * cout * tiles, lda: tiles,
                           b: v + xi * cin * tiles, ldb: tiles, c: du + xi * cout * cin, ldc: cin)
            }
            transformWeightGradient(du, outChannels: cout, inChannels: cin, into: dw)
        }
    }

    /// dW for an applicable geometry, the adjoint of `forward`: with Z_t = U ⊙ V_t and
    /// y_t = Aᵀ·Z_t·A, dU = Σ_t (A·dy_t·Aᵀ) ⊙ V_t (16 GEMMs over the tiles of each band)
    /// and dW = Gᵀ·dU·G. Bands are summed by `Convolution.sumInGroups`.
    static func weightGradient(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, _ g: ConvGeometry,
                               into dw: UnsafeMutablePointer<Float>, layout: Layout = .automatic) {
        let bands = bands(g)
        if layout.isWhole(g, bands: bands) {
            weightGradientWhole(x: x, dy: dy, g, into: dw)
            return
        }
        if case .automatic = layout, WinogradF4.pays(g) {
            WinogradF4.weightGradient(x: x, dy: dy, g, into: dw)
            return
        }
        let cin = g.inChannels, cout = g.outChannels, size = 16 * cout * cin
        let tilesX = (g.outWidth + 1) / 2
        Workspace.withBuffer(count: size) { du in
            Convolution.sumInGroups(terms: bands.count, size: size, work: 8 * cout * cin * g.batch * g.outHeight * g.outWidth,
                                    into: du) { i, target, overwrite in
                let band = bands[i], tiles = band.rows * tilesX
                let rowScratch = 16 * ((tilesX + 7) / 8 * 8)
                Workspace.withBuffer(count: 16 * (cin + cout) * tiles + rowScratch) { buffer in
                    let v = buffer, e = buffer + 16 * cin * tiles, scratch = e + 16 * cout * tiles
                    transformInput(x, g, band: band, channels: 0..<cin, into: v, ld: tiles, scratch: scratch)
                    transformOutputGradient(dy, g, band: band, channels: 0..<cout, into: e, ld: tiles)
                    for xi in 0..<16 {
                        BLAS.sgemm(transB: true, m: cout, n: cin, k: tiles, a: e + xi * cout * tiles, lda: tiles,
                                   b: v + xi * cin * tiles, ldb: tiles, beta: overwrite ? 0 : 1,
                                   c: target + xi * cout * cin, ldc: cin)
                    }
                }
            }
            transformWeightGradient(du, outChannels: cout, inChannels: cin, into: dw)
        }
    }

    /// E[ξ][co][t] = (A·dy_t·Aᵀ)[ξ] for the 2×2 output-gradient tile dy_t (zero past the
    /// image edge), A = [1 0; 1 1; 1 −1; 0 −1].
    static func transformOutputGradient(_ dy: UnsafePointer<Float>, _ g: ConvGeometry, band: ConvBand,
                                        channels: Range<Int>, into e: UnsafeMutablePointer<Float>, ld tiles: Int) {
        let tilesX = (g.outWidth + 1) / 2
        let cout = g.outChannels, ho = g.outHeight, wo = g.outWidth
        let fullX = wo / 2, stride = cout * tiles
        for co in channels {
            let plane = dy + (band.image * cout + co) * ho * wo
            let ec = e + co * tiles
            for r in 0..<band.rows {
                let oy = 2 * (band.firstRow + r)
                let top = plane + oy * wo
                let hasBottom = oy + 1 < ho
                let bottom = plane + (hasBottom ? oy + 1 : oy) * wo
                let row = ec + r * tilesX
                // Tile (a b; c d) → rows of A·dy: (a, b), (a+c, b+d), (a−c, b−d), (−c, −d),
                // then the same along columns: (p, q) → (p, p+q, p−q, −q).
                @inline(__always) func emit<V: SIMD>(_ a: V, _ b: V, _ c: V, _ d: V, at q: UnsafeMutablePointer<Float>,
                                                     _ write: (V, UnsafeMutablePointer<Float>) -> Void) where V.Scalar == Float {
                    @inline(__always) func row(_ i: Int, _ p0: V, _ p1: V) {
                        write(p0, q + (4 * i) * stride)
                        write(p0 + p1, q + (4 * i + 1) * stride)
                        write(p0 - p1, q + (4 * i + 2) * stride)
                        write(V() - p1, q + (4 * i + 3) * stride)
                    }
                    row(0, a, b)
                    row(1, a + c, b + d)
                    row(2, a - c, b - d)
                    row(3, V() - c, V() - d)
                }
                sweep(tiles: tilesX, vectors: 0, fullX, vector: { tx in
                    let t = load16(top + 2 * tx)
                    let b = hasBottom ? load16(bottom + 2 * tx) : SIMD16<Float>()
                    emit(t.evenHalf, t.oddHalf, b.evenHalf, b.oddHalf, at: row + tx) { store($0, $1) }
                }, scalar: { tx in
                    let hasRight = tx < fullX
                    let a = top[2 * tx], b = hasRight ? top[2 * tx + 1] : 0
                    let c = hasBottom ? bottom[2 * tx] : 0, d = hasBottom && hasRight ? bottom[2 * tx + 1] : 0
                    emit(SIMD2(a, 0), SIMD2(b, 0), SIMD2(c, 0), SIMD2(d, 0), at: row + tx) { $1[0] = $0[0] }
                })
            }
        }
    }

    /// dW[co][ci] = Gᵀ·dU[·][co][ci]·G (4×4 → 3×3), Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1];
    /// eight input channels at a time (contiguous loads, scattered taps).
    static func transformWeightGradient(_ du: UnsafePointer<Float>, outChannels: Int, inChannels: Int,
                                        into dw: UnsafeMutablePointer<Float>) {
        let stride = outChannels * inChannels
        Parallel.forEach(chunks: outChannels, work: 16 * stride) { co in
            let q = du + co * inChannels, out = dw + co * inChannels * 9
            var ci = 0
            while ci + 8 <= inChannels {
                let o = out + ci * 9
                gradientTransform({ xi in load8(q + xi * stride + ci) }, { j, value in
                    for lane in 0..<8 { o[9 * lane + j] = value[lane] }
                })
                ci += 8
            }
            while ci < inChannels {
                gradientTransform({ xi in SIMD2(q[xi * stride + ci], 0) }, { j, value in out[ci * 9 + j] = value[0] })
                ci += 1
            }
        }
    }

    /// Gᵀ·m·G for a 4×4 m (`entry(ξ)`): `emit(j, value)` for the 9 taps, lane by lane.
    @inline(__always)
    static func gradientTransform<V: SIMD>(_ entry: (Int) -> V, _ emit: (Int, V) -> Void) where V.Scalar == Float {
        let half = V(repeating: 0.5)
        @inline(__always) func combine(_ u0: V, _ u1: V, _ u2: V, _ u3: V) -> (V, V, V) {
            (u0 + half * (u1 + u2), half * (u1 - u2), half * (u1 + u2) + u3)
        }
        // Gᵀ·m (3×4, column by column), then (Gᵀ·m)·G row by row.
        let c0 = combine(entry(0), entry(4), entry(8), entry(12))
        let c1 = combine(entry(1), entry(5), entry(9), entry(13))
        let c2 = combine(entry(2), entry(6), entry(10), entry(14))
        let c3 = combine(entry(3), entry(7), entry(11), entry(15))
        let r0 = combine(c0.0, c1.0, c2.0, c3.0)
        let r1 = combine(c0.1, c1.1, c2.1, c3.1)
        let r2 = combine(c0.2, c1.2, c2.2, c3.2)
        emit(0, r0.0); emit(1, r0.1); emit(2, r0.2)
        emit(3, r1.0); emit(4, r1.1); emit(5, r1.2)
        emit(6, r2.0); emit(7, r2.1); emit(8, r2.2)
    }

    /// V[ξ][ci][t] = (Bᵀ·d·B)[ξ] for the 4×4 input tile d of every tile t of the band,
    /// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]. First d·B along each input row (kept
    /// in a ring of four rows: consecutive tile rows share two input rows), then Bᵀ·(d·B)
    /// down the columns. Explicit SIMD over 8 tiles: the loops touch up to 8 pointers,
    /// more than the auto-vectorizer's alias checks accept.
    static func transformInput(_ x: UnsafePointer<Float>, _ g: ConvGeometry, band: ConvBand, channels: Range<Int>,
                               into v: UnsafeMutablePointer<Float>, ld tiles: Int, scratch: UnsafeMutablePointer<Float>) {
        let tilesX = (g.outWidth + 1) / 2
        let cin = g.inChannels, p = g.padding
        let vectorTiles = (tilesX + 7) / 8 * 8
        // ring[slot][c][tx]: one input row after the transform along x.
        let ring = scratch
        for ci in channels {
            let plane = x + (band.image * cin + ci) * g.height * g.width
            for r in 0..<band.rows {
                let ty = band.firstRow + r
                for k in (r == 0 ? 0 : 2)..<4 {
                    let iy = 2 * ty - p + k
                    let slot = ring + ((2 * r + k) & 3) * 4 * vectorTiles
                    transformRow(iy >= 0 && iy < g.height ? plane + iy * g.width : nil, g, tilesX: tilesX,
                                 into: slot, stride: vectorTiles)
                }
                let t0 = r * tilesX
                let s0 = ring + ((2 * r) & 3) * 4 * vectorTiles, s1 = ring + ((2 * r + 1) & 3) * 4 * vectorTiles
                let s2 = ring + ((2 * r + 2) & 3) * 4 * vectorTiles, s3 = ring + ((2 * r + 3) & 3) * 4 * vectorTiles
                for c in 0..<4 {
                    let a0 = s0 + c * vectorTiles, a1 = s1 + c * vectorTiles
                    let a2 = s2 + c * vectorTiles, a3 = s3 + c * vectorTiles
                    let v0 = v + (c * cin + ci) * tiles + t0
                    let v1 = v + ((4 + c) * cin + ci) * tiles + t0
                    let v2 = v + ((8 + c) * cin + ci) * tiles + t0
                    let v3 = v + ((12 + c) * cin + ci) * tiles + t0
                    sweep(tiles: tilesX, vectors: 0, tilesX, vector: { tx in
                        let e0 = load8(a0 + tx), e1 = load8(a1 + tx), e2 = load8(a2 + tx), e3 = load8(a3 + tx)
                        store(e0 - e2, v0 + tx)
                        store(e1 + e2, v1 + tx)
                        store(e2 - e1, v2 + tx)
                        store(e1 - e3, v3 + tx)
                    }, scalar: { tx in
                        v0[tx] = a0[tx] - a2[tx]
                        v1[tx] = a1[tx] + a2[tx]
                        v2[tx] = a2[tx] - a1[tx]
                        v3[tx] = a1[tx] - a3[tx]
                    })
                }
            }
        }
    }

    /// d·B along one input row (nil: a row of the zero padding): for tile tx, the input
    /// columns 2·tx − p … 2·tx − p + 3 become h0 = d0 − d2, h1 = d1 + d2, h2 = d2 − d1,
    /// h3 = d1 − d3, stored at `h + c·stride + tx`. Interior tiles load straight from the
    /// row (no padded copy: reading back a just-written copy stalled on store forwarding).
    @inline(__always)
    static func transformRow(_ row: UnsafePointer<Float>?, _ g: ConvGeometry, tilesX: Int,
                             into h: UnsafeMutablePointer<Float>, stride: Int) {
        guard let row else {
            for j in 0..<(4 * stride) { h[j] = 0 }
            return
        }
        let p = g.padding, width = g.width
        @inline(__always) func scalarTile(_ tx: Int) {
            let c = 2 * tx - p
            @inline(__always) func at(_ i: Int) -> Float { i >= 0 && i < width ? row[i] : 0 }
            let d0 = at(c), d1 = at(c + 1), d2 = at(c + 2), d3 = at(c + 3)
            h[tx] = d0 - d2
            h[stride + tx] = d1 + d2
            h[2 * stride + tx] = d2 - d1
            h[3 * stride + tx] = d1 - d3
        }
        // Vector tiles tx…tx+7 read columns 2·tx − p … 2·tx − p + 17: from the first tile
        // past the left padding to the last start whose reads stay inside the row.
        let first = (p + 1) / 2
        let lastStart = width + p - 18 >= 0 ? (width + p - 18) / 2 : -8
        sweep(tiles: tilesX, vectors: first, min(tilesX, lastStart + 8), vector: { tx in
            let src = row + (2 * tx - p)
            let a = load16(src), b = load16(src + 2)
            let d0 = a.evenHalf, d1 = a.oddHalf, d2 = b.evenHalf, d3 = b.oddHalf
            store(d0 - d2, h + tx)
            store(d1 + d2, h + stride + tx)
            store(d2 - d1, h + 2 * stride + tx)
            store(d1 - d3, h + 3 * stride + tx)
        }, scalar: scalarTile)
    }

    /// y tile = Aᵀ·m·A (+ bias) from M[ξ][co][t], Aᵀ = [1 1 1 0; 0 1 −1 −1]; outputs past
    /// the image's last row or column (odd sizes) are dropped.
    static func transformOutput(_ m: UnsafePointer<Float>, ld tiles: Int, _ g: ConvGeometry, band: ConvBand,
                                channels: Range<Int>, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let tilesX = (g.outWidth + 1) / 2
        let cout = g.outChannels, ho = g.outHeight, wo = g.outWidth
        let fullX = wo / 2
        for co in channels {
            let b = bias?[co] ?? 0
            let plane = y + (band.image * cout + co) * ho * wo
            let mc = m + co * tiles, stride = cout * tiles
            for r in 0..<band.rows {
                let oy = 2 * (band.firstRow + r)
                let top = plane + oy * wo
                let hasBottom = oy + 1 < ho
                let bottom = plane + (hasBottom ? oy + 1 : oy) * wo
                let row = mc + r * tilesX
                sweep(tiles: tilesX, vectors: 0, fullX, vector: { tx in
                    let q = row + tx
                    // Aᵀ·m: s0 = m_0j + m_1j + m_2j, s1 = m_1j − m_2j − m_3j per column j.
                    let s00 = load8(q) + load8(q + 4 * stride) + load8(q + 8 * stride)
                    let s01 = load8(q + stride) + load8(q + 5 * stride) + load8(q + 9 * stride)
                    let s02 = load8(q + 2 * stride) + load8(q + 6 * stride) + load8(q + 10 * stride)
                    let s03 = load8(q + 3 * stride) + load8(q + 7 * stride) + load8(q + 11 * stride)
                    let bv = SIMD8<Float>(repeating: b)
                    store(interleave(s00 + s01 + s02 + bv, s01 - s02 - s03 + bv), top + 2 * tx)
                    if hasBottom {
                        let s10 = load8(q + 4 * stride) - load8(q + 8 * stride) - load8(q + 12 * stride)
                        let s11 = load8(q + 5 * stride) - load8(q + 9 * stride) - load8(q + 13 * stride)
                        let s12 = load8(q + 6 * stride) - load8(q + 10 * stride) - load8(q + 14 * stride)
                        let s13 = load8(q + 7 * stride) - load8(q + 11 * stride) - load8(q + 15 * stride)
                        store(interleave(s10 + s11 + s12 + bv, s11 - s12 - s13 + bv), bottom + 2 * tx)
                    }
                }, scalar: { tx in
                    let q = row + tx
                    let s00 = q[0] + q[4 * stride] + q[8 * stride], s01 = q[stride] + q[5 * stride] + q[9 * stride]
                    let s02 = q[2 * stride] + q[6 * stride] + q[10 * stride]
                    let s03 = q[3 * stride] + q[7 * stride] + q[11 * stride]
                    let s10 = q[4 * stride] - q[8 * stride] - q[12 * stride]
                    let s11 = q[5 * stride] - q[9 * stride] - q[13 * stride]
                    let s12 = q[6 * stride] - q[10 * stride] - q[14 * stride]
                    let s13 = q[7 * stride] - q[11 * stride] - q[15 * stride]
                    top[2 * tx] = s00 + s01 + s02 + b
                    if hasBottom { bottom[2 * tx] = s10 + s11 + s12 + b }
                    if tx < fullX {
                        top[2 * tx + 1] = s01 - s02 - s03 + b
                        if hasBottom { bottom[2 * tx + 1] = s11 - s12 - s13 + b }
                    }
                })
            }
        }
    }

    /// Runs `vector(tx)` on 8-tile groups covering tiles lo..<hi — the last group moved
    /// back to end at hi, overlapping its neighbour (pure writes, so recomputed tiles get
    /// the same values) — and `scalar(tx)` on the tiles outside. Fewer than 8 tiles in
    /// lo..<hi: all scalar.
    @inline(__always)
    static func sweep(tiles: Int, vectors lo: Int, _ hi: Int, vector: (Int) -> Void, scalar: (Int) -> Void) {
        guard hi - lo >= 8 else {
            for tx in 0..<tiles { scalar(tx) }
            return
        }
        for tx in 0..<lo { scalar(tx) }
        var tx = lo
        while tx + 8 < hi { vector(tx); tx += 8 }
        vector(hi - 8)
        for tx in hi..<tiles { scalar(tx) }
    }

    @inline(__always) static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) static func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always) static func load16(_ p: UnsafeMutablePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always) static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// (a0, b0, a1, b1, …): two output columns of every tile, side by side.
    @inline(__always) static func interleave(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD16<Float> {
        SIMD16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3],
               a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
    }
}
