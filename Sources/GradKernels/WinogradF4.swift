// 3×3 stride-1 convolution by Winograd's F(4×4, 3×3) (Lavin & Gray 2016; points 0, ±1,
// ±2): each 4×4 output tile is Aᵀ·[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A over the 6×6 input tile d
// around it, so a direct convolution's 9 multiply-adds per output and input channel become
// 36 / 16 = 2.25 (F(2×2, 3×3): 4), and the transformed input is 2.25× the input (F(2×2):
// 4×). Its transforms have constants up to 8 and 1/24, so its rounding error is larger
// than F(2×2)'s (1.4–4.6e-6 of the largest output in the kernel tests). The forward pass,
// dX (the flipped-kernel forward) and dW (the adjoint: dU = Σ_t (A·dy_t·Aᵀ) ⊙ V_t,
// dW = Gᵀ·dU·G) use it on maps where it pays (docs/performance.md).
//
// The layout follows `Winograd`: bands of tile rows sized for L2, per band the input
// transform, 36 GEMMs U[ξ] (Cout × Cin) · V[ξ] (Cin × tiles) and the output transform.
// The forward GEMMs run on `PanelGEMM` (U[ξ] read in place, no packing per band); dW's
// accumulate E·Vᵀ-shaped products on sgemm.

enum WinogradF4 {
    /// Where F(4×4) is used instead of F(2×2) for the forward pass (`Winograd` has already
    /// chosen bands over its whole-problem layout): output maps of at least 8 × 8. Until
    /// its forward GEMMs ran on `PanelGEMM` it also needed a band's tiles to be at least
    /// half the output channels (each band packed all 36 U[ξ] again through sgemm); without
    /// the packing F(4×4) was faster there too (`ecdp bench conv`, forward, medians of three
    /// alternating runs: 1 × 128 → 128 at 80² 7.5 → 5.2 ms, 1 × 64 → 64 at 32² 0.81 → 0.53,
    /// 4 × 128 → 128 at 16² 1.55 → 1.29; `small` step 488 → 445 ms).
    static func pays(_ g: ConvGeometry) -> Bool {
        g.outHeight >= minimumSide && g.outWidth >= minimumSide
    }

    static var minimumSide: Int { KernelTuning.current.winogradF4MinimumSide }

    static func tilesX(_ g: ConvGeometry) -> Int { (g.outWidth + 3) / 4 }

    /// Scratch for `transformInput`: six transformed rows, and one zero-padded input row.
    static func ringFloats(_ tilesX: Int) -> Int {
        let vectorTiles = (tilesX + 7) / 8 * 8
        return 36 * vectorTiles + 4 * vectorTiles + 8
    }
    static func tilesY(_ g: ConvGeometry) -> Int { (g.outHeight + 3) / 4 }

    /// Bands of tile rows whose V and M matrices fit `Convolution.bandFloats`.
    static func bands(_ g: ConvGeometry) -> [ConvBand] {
        let tilesPerBand = Convolution.bandFloats / (36 * (g.inChannels + g.outChannels))
        let rows = Convolution.bandRows(total: tilesY(g), budget: tilesPerBand / tilesX(g), batch: g.batch)
        return Convolution.bands(batch: g.batch, rows: tilesY(g), rowsPerBand: rows)
    }

    /// `y = conv(x, w) + bias`, 3×3, stride 1, padding ≤ 2.
    static func forward(x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let cin = g.inChannels, cout = g.outChannels, tilesX = tilesX(g)
        let bands = bands(g)
        Workspace.withBuffer(count: 36 * cout * cin) { u in
            transformWeights(w, outChannels: cout, inChannels: cin, into: u)
            let uc = UnsafePointer(u)
            Parallel.forEach(chunks: bands.count, work: 4 * cout * cin * g.batch * g.outHeight * g.outWidth) { i in
                let band = bands[i], tiles = band.rows * tilesX
                let ringCount = ringFloats(tilesX)
                Workspace.withBuffer(count: 36 * (cin + cout) * tiles + ringCount) { buffer in
                    let v = buffer, m = buffer + 36 * cin * tiles, ring = m + 36 * cout * tiles
                    transformInput(x, g, band: band, into: v, ld: tiles, ring: ring)
                    for xi in 0..<36 {
                        PanelGEMM.multiply(m: cout, n: tiles, k: cin, a: uc + xi * cout * cin, lda: cin,
                                           b: v + xi * cin * tiles, ldb: tiles, c: m + xi * cout * tiles, ldc: tiles)
                    }
                    transformOutput(m, ld: tiles, g, band: band, bias: bias, into: y)
                }
            }
        }
    }

    /// dW for a geometry where F(4×4) pays: per band the input transform, A·dy·Aᵀ of the
    /// output gradient and 36 GEMMs dU[ξ] += E[ξ] · V[ξ]ᵀ over the band's tiles; bands
    /// summed by `Convolution.sumInGroups`, then dW = Gᵀ·dU·G.
    static func weightGradient(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, _ g: ConvGeometry,
                               into dw: UnsafeMutablePointer<Float>) {
        let cin = g.inChannels, cout = g.outChannels, size = 36 * cout * cin, tilesX = tilesX(g)
        let bands = bands(g)
        Workspace.withBuffer(count: size) { du in
            Convolution.sumInGroups(terms: bands.count, size: size, work: 4 * cout * cin * g.batch * g.outHeight * g.outWidth,
                                    into: du) { i, target, overwrite in
                let band = bands[i], tiles = band.rows * tilesX
                let ringCount = ringFloats(tilesX)
                Workspace.withBuffer(count: 36 * (cin + cout) * tiles + ringCount) { buffer in
                    let v = buffer, e = buffer + 36 * cin * tiles, ring = e + 36 * cout * tiles
                    transformInput(x, g, band: band, into: v, ld: tiles, ring: ring)
                    transformOutputGradient(dy, g, band: band, into: e, ld: tiles)
                    for xi in 0..<36 {
                        BLAS.sgemm(transB: true, m: cout, n: cin, k: tiles, a: e + xi * cout * tiles, lda: tiles,
                                   b: v + xi * cin * tiles, ldb: tiles, beta: overwrite ? 0 : 1,
                                   c: target + xi * cout * cin, ldc: cin)
                    }
                }
            }
            transformWeightGradient(du, outChannels: cout, inChannels: cin, into: dw)
        }
    }

    /// E[ξ][co][t] = (A·dy_t·Aᵀ)[ξ] for the 4×4 output-gradient tile dy_t (zero past the
    /// image edge); eight interior tiles read 32 consecutive columns per row.
    static func transformOutputGradient(_ dy: UnsafePointer<Float>, _ g: ConvGeometry, band: ConvBand,
                                        into e: UnsafeMutablePointer<Float>, ld tiles: Int) {
        let tilesX = tilesX(g), cout = g.outChannels, ho = g.outHeight, wo = g.outWidth
        let fullX = wo / 4, stride = cout * tiles
        if acrossRows(g, tiles: tiles) {
            transformOutputGradientAcrossRows(dy, g, band: band, into: e, ld: tiles)
            return
        }
        for co in 0..<cout {
            let plane = dy + (band.image * cout + co) * ho * wo
            let ec = e + co * tiles
            for r in 0..<band.rows {
                let oy = 4 * (band.firstRow + r)
                let rows = min(4, ho - oy)
                let q0 = ec + r * tilesX
                /// A·dy·Aᵀ from the tile rows' four values each (`row(i)`, zero past the edge).
                @inline(__always) func emit<V: SIMD>(_ row: (Int) -> (V, V, V, V), at q: UnsafeMutablePointer<Float>,
                                                     _ write: (V, UnsafeMutablePointer<Float>) -> Void) where V.Scalar == Float {
                    let h0 = adjointOutputTransform(row(0)), h1 = adjointOutputTransform(row(1))
                    let h2 = adjointOutputTransform(row(2)), h3 = adjointOutputTransform(row(3))
                    @inline(__always) func column(_ j: Int, _ a: V, _ b: V, _ c: V, _ d: V) {
                        let t = adjointOutputTransform((a, b, c, d))
                        write(t.0, q + j * stride); write(t.1, q + (6 + j) * stride); write(t.2, q + (12 + j) * stride)
                        write(t.3, q + (18 + j) * stride); write(t.4, q + (24 + j) * stride); write(t.5, q + (30 + j) * stride)
                    }
                    column(0, h0.0, h1.0, h2.0, h3.0); column(1, h0.1, h1.1, h2.1, h3.1)
                    column(2, h0.2, h1.2, h2.2, h3.2); column(3, h0.3, h1.3, h2.3, h3.3)
                    column(4, h0.4, h1.4, h2.4, h3.4); column(5, h0.5, h1.5, h2.5, h3.5)
                }
                Winograd.sweep(tiles: tilesX, vectors: 0, fullX, vector: { tx in
                    emit({ i -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) in
                        guard i < rows else { return (.zero, .zero, .zero, .zero) }
                        let src = plane + (oy + i) * wo + 4 * tx
                        let a = Winograd.load16(src), b = Winograd.load16(src + 16)
                        let even = SIMD16(lowHalf: a.evenHalf, highHalf: b.evenHalf)
                        let odd = SIMD16(lowHalf: a.oddHalf, highHalf: b.oddHalf)
                        return (even.evenHalf, odd.evenHalf, even.oddHalf, odd.oddHalf)
                    }, at: q0 + tx) { Winograd.store($0, $1) }
                }, scalar: { tx in
                    let columns = min(4, wo - 4 * tx)
                    emit({ i -> (SIMD2<Float>, SIMD2<Float>, SIMD2<Float>, SIMD2<Float>) in
                        guard i < rows else { return (.zero, .zero, .zero, .zero) }
                        let src = plane + (oy + i) * wo + 4 * tx
                        return (SIMD2(src[0], 0), SIMD2(columns > 1 ? src[1] : 0, 0),
                                SIMD2(columns > 2 ? src[2] : 0, 0), SIMD2(columns > 3 ? src[3] : 0, 0))
                    }, at: q0 + tx) { $1[0] = $0[0] }
                })
            }
        }
    }

    /// Whether the output-side transforms take eight consecutive tiles of the band as one
    /// vector even across tile rows: on maps narrower than eight tiles (the RRDB's 16²),
    /// where a row alone would go lane by lane. Needs whole tiles (sides multiples of 4).
    static func acrossRows(_ g: ConvGeometry, tiles: Int) -> Bool {
        tilesX(g) < 8 && tiles >= 8 && g.outWidth % 4 == 0 && g.outHeight % 4 == 0
    }

    /// Tiles t0 … t0 + 7 of a band → the offsets of their top-left outputs in an output
    /// plane. The across-rows transforms compute them once per group of eight tiles, for
    /// all channels (a division per tile).
    @inline(__always)
    static func tileOrigins(from t0: Int, band: ConvBand, tilesX: Int, width: Int) -> SIMD8<Int> {
        var origins = SIMD8<Int>()
        for l in 0..<8 {
            let r = (t0 + l) / tilesX, tx = t0 + l - r * tilesX
            origins[l] = 4 * (band.firstRow + r) * width + 4 * tx
        }
        return origins
    }

    /// `transformOutputGradient` where `acrossRows`: lanes are the band's tiles t … t + 7,
    /// each gathered four columns at a time.
    static func transformOutputGradientAcrossRows(_ dy: UnsafePointer<Float>, _ g: ConvGeometry, band: ConvBand,
                                                  into e: UnsafeMutablePointer<Float>, ld tiles: Int) {
        let tilesX = tilesX(g), cout = g.outChannels, wo = g.outWidth, stride = cout * tiles
        @inline(__always) func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
        }
        var t = 0
        while t < tiles {
            let t0 = min(t, tiles - 8)
            let origin = tileOrigins(from: t0, band: band, tilesX: tilesX, width: wo)
            for co in 0..<cout {
                let plane = dy + (band.image * cout + co) * g.outHeight * wo
                @inline(__always) func row(_ i: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                    let src = plane + i * wo
                    let a = SIMD16(lowHalf: SIMD8(lowHalf: load4(src + origin[0]), highHalf: load4(src + origin[1])),
                                   highHalf: SIMD8(lowHalf: load4(src + origin[2]), highHalf: load4(src + origin[3])))
                    let b = SIMD16(lowHalf: SIMD8(lowHalf: load4(src + origin[4]), highHalf: load4(src + origin[5])),
                                   highHalf: SIMD8(lowHalf: load4(src + origin[6]), highHalf: load4(src + origin[7])))
                    let even = SIMD16(lowHalf: a.evenHalf, highHalf: b.evenHalf)
                    let odd = SIMD16(lowHalf: a.oddHalf, highHalf: b.oddHalf)
                    return (even.evenHalf, odd.evenHalf, even.oddHalf, odd.oddHalf)
                }
                let h0 = adjointOutputTransform(row(0)), h1 = adjointOutputTransform(row(1))
                let h2 = adjointOutputTransform(row(2)), h3 = adjointOutputTransform(row(3))
                let q = e + co * tiles + t0
                @inline(__always) func column(_ j: Int, _ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>, _ d: SIMD8<Float>) {
                    let v = adjointOutputTransform((a, b, c, d))
                    Winograd.store(v.0, q + j * stride); Winograd.store(v.1, q + (6 + j) * stride)
                    Winograd.store(v.2, q + (12 + j) * stride); Winograd.store(v.3, q + (18 + j) * stride)
                    Winograd.store(v.4, q + (24 + j) * stride); Winograd.store(v.5, q + (30 + j) * stride)
                }
                column(0, h0.0, h1.0, h2.0, h3.0); column(1, h0.1, h1.1, h2.1, h3.1)
                column(2, h0.2, h1.2, h2.2, h3.2); column(3, h0.3, h1.3, h2.3, h3.3)
                column(4, h0.4, h1.4, h2.4, h3.4); column(5, h0.5, h1.5, h2.5, h3.5)
            }
            t += 8
        }
    }

    /// dW[co][ci] = Gᵀ·dU[·][co][ci]·G (6×6 → 3×3); eight input channels at a time.
    static func transformWeightGradient(_ du: UnsafePointer<Float>, outChannels: Int, inChannels: Int,
                                        into dw: UnsafeMutablePointer<Float>) {
        let stride = outChannels * inChannels
        @inline(__always) func one<V: SIMD>(_ entry: (Int) -> V, _ emit: (Int, V) -> Void) where V.Scalar == Float {
            // Gᵀ·dU down the columns (3 × 6), then (Gᵀ·dU)·G along the rows.
            @inline(__always) func column(_ j: Int) -> (V, V, V) {
                adjointKernelTransform(entry(j), entry(6 + j), entry(12 + j), entry(18 + j), entry(24 + j), entry(30 + j))
            }
            let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3), c4 = column(4), c5 = column(5)
            let r0 = adjointKernelTransform(c0.0, c1.0, c2.0, c3.0, c4.0, c5.0)
            let r1 = adjointKernelTransform(c0.1, c1.1, c2.1, c3.1, c4.1, c5.1)
            let r2 = adjointKernelTransform(c0.2, c1.2, c2.2, c3.2, c4.2, c5.2)
            emit(0, r0.0); emit(1, r0.1); emit(2, r0.2)
            emit(3, r1.0); emit(4, r1.1); emit(5, r1.2)
            emit(6, r2.0); emit(7, r2.1); emit(8, r2.2)
        }
        Parallel.forEach(chunks: outChannels, work: 36 * stride) { co in
            let q = du + co * inChannels, out = dw + co * inChannels * 9
            var ci = 0
            while ci + 8 <= inChannels {
                let o = out + ci * 9
                one({ xi in Winograd.load8(q + xi * stride + ci) }, { j, value in
                    for lane in 0..<8 { o[9 * lane + j] = value[lane] }
                })
                ci += 8
            }
            while ci < inChannels {
                one({ xi in SIMD2(q[xi * stride + ci], 0) }, { j, value in out[ci * 9 + j] = value[0] })
                ci += 1
            }
        }
    }

    /// A·(p0 … p3) = (p0, p0+p1+p2+p3, p0−p1+p2−p3, p0+2p1+4p2+8p3, p0−2p1+4p2−8p3, p3):
    /// the adjoint of `outputTransform`.
    @inline(__always)
    static func adjointOutputTransform<V: SIMD>(_ p: (V, V, V, V)) -> (V, V, V, V, V, V) where V.Scalar == Float {
        let even = p.0 + p.2, odd = p.1 + p.3
        let even4 = p.0 + V(repeating: 4) * p.2, odd4 = V(repeating: 2) * p.1 + V(repeating: 8) * p.3
        return (p.0, even + odd, even - odd, even4 + odd4, even4 - odd4, p.3)
    }

    /// Gᵀ·(u0 … u5), the adjoint of `kernelTransform`: Gᵀ = [¼ −⅙ −⅙ 1/24 1/24 0;
    /// 0 −⅙ ⅙ 1/12 −1/12 0; 0 −⅙ −⅙ ⅙ ⅙ 1].
    @inline(__always)
    static func adjointKernelTransform<V: SIMD>(_ u0: V, _ u1: V, _ u2: V, _ u3: V, _ u4: V, _ u5: V) -> (V, V, V) where V.Scalar == Float {
        let sixth = V(repeating: 1.0 / 6)
        let sum12 = u1 + u2, sum34 = u3 + u4
        return (V(repeating: 0.25) * u0 + sixth * (V(repeating: 0.25) * sum34 - sum12),
                sixth * (u2 - u1 + V(repeating: 0.5) * (u3 - u4)),
                sixth * (sum34 - sum12) + u5)
    }

    // MARK: The three transforms, on any SIMD width

    /// Bᵀ·(d0 … d5): one row or column of an input tile.
    @inline(__always)
    static func inputTransform<V: SIMD>(_ d0: V, _ d1: V, _ d2: V, _ d3: V, _ d4: V, _ d5: V)
        -> (V, V, V, V, V, V) where V.Scalar == Float {
        let two = V(repeating: 2), four = V(repeating: 4), five = V(repeating: 5)
        let a = d4 - d2, b = d3 - d1
        return (four * d0 - five * d2 + d4,
                d4 + d3 - four * (d1 + d2),
                d4 - d3 + four * (d1 - d2),
                a + two * b,
                a - two * b,
                four * d1 - five * d3 + d5)
    }

    /// Aᵀ·(m0 … m5): one row or column of a product tile.
    @inline(__always)
    static func outputTransform<V: SIMD>(_ m0: V, _ m1: V, _ m2: V, _ m3: V, _ m4: V, _ m5: V)
        -> (V, V, V, V) where V.Scalar == Float {
        let sum12 = m1 + m2, diff12 = m1 - m2, sum34 = m3 + m4, diff34 = m3 - m4
        return (m0 + sum12 + sum34,
                diff12 + V(repeating: 2) * diff34,
                sum12 + V(repeating: 4) * sum34,
                diff12 + V(repeating: 8) * diff34 + m5)
    }

    /// G·(g0, g1, g2): one row or column of a 3×3 kernel.
    @inline(__always)
    static func kernelTransform<V: SIMD>(_ g0: V, _ g1: V, _ g2: V) -> (V, V, V, V, V, V) where V.Scalar == Float {
        let sixth = V(repeating: 1.0 / 6), quarter = V(repeating: 0.25)
        let even = g0 + g2
        let a = quarter * g0 + g2  // (g0/4 + g2) / 6 = g0/24 + g2/6
        return (quarter * g0,
                -sixth * (even + g1),
                -sixth * (even - g1),
                sixth * (a + V(repeating: 0.5) * g1),
                sixth * (a - V(repeating: 0.5) * g1),
                g2)
    }

    /// U[ξ][co][ci] = (G·w[co, ci]·Gᵀ)[ξ], ξ = 6·row + column; eight input channels at a time.
    static func transformWeights(_ w: UnsafePointer<Float>, outChannels: Int, inChannels: Int,
                                 into u: UnsafeMutablePointer<Float>) {
        let stride = outChannels * inChannels
        @inline(__always) func one<V: SIMD>(_ tap: (Int) -> V, _ emit: (Int, V) -> Void) where V.Scalar == Float {
            // G·g along the kernel's columns, then (G·g)·Gᵀ along the rows.
            let c0 = kernelTransform(tap(0), tap(3), tap(6))
            let c1 = kernelTransform(tap(1), tap(4), tap(7))
            let c2 = kernelTransform(tap(2), tap(5), tap(8))
            @inline(__always) func row(_ i: Int, _ a: V, _ b: V, _ c: V) {
                let r = kernelTransform(a, b, c)
                emit(6 * i, r.0); emit(6 * i + 1, r.1); emit(6 * i + 2, r.2)
                emit(6 * i + 3, r.3); emit(6 * i + 4, r.4); emit(6 * i + 5, r.5)
            }
            row(0, c0.0, c1.0, c2.0); row(1, c0.1, c1.1, c2.1); row(2, c0.2, c1.2, c2.2)
            row(3, c0.3, c1.3, c2.3); row(4, c0.4, c1.4, c2.4); row(5, c0.5, c1.5, c2.5)
        }
        Parallel.forEach(chunks: outChannels, work: 36 * stride) { co in
            let base = w + co * inChannels * 9, out = u + co * inChannels
            var ci = 0
            while ci + 8 <= inChannels {
                let q = base + ci * 9
                one({ j in SIMD8(q[j], q[9 + j], q[18 + j], q[27 + j], q[36 + j], q[45 + j], q[54 + j], q[63 + j]) },
                    { xi, value in Winograd.store(value, out + xi * stride + ci) })
                ci += 8
            }
            while ci < inChannels {
                let q = base + ci * 9
                one({ j in SIMD2(q[j], 0) }, { xi, value in out[xi * stride + ci] = value[0] })
                ci += 1
            }
        }
    }

    /// V[ξ][ci][t] = (Bᵀ·d·B)[ξ] for the 6×6 input tile d of every tile t of the band: d·B
    /// along each input row into a ring of six rows (consecutive tile rows share two input
    /// rows), then Bᵀ· down the columns, 8 tiles per vector.
    static func transformInput(_ x: UnsafePointer<Float>, _ g: ConvGeometry, band: ConvBand,
                               into v: UnsafeMutablePointer<Float>, ld tiles: Int, ring: UnsafeMutablePointer<Float>) {
        let tilesX = tilesX(g), cin = g.inChannels, p = g.padding
        let vectorTiles = (tilesX + 7) / 8 * 8, slotSize = 6 * vectorTiles
        let padded = ring + 6 * slotSize
        for ci in 0..<cin {
            let plane = x + (band.image * cin + ci) * g.height * g.width
            for r in 0..<band.rows {
                let ty = band.firstRow + r
                for k in (r == 0 ? 0 : 2)..<6 {
                    let iy = 4 * ty - p + k
                    transformRow(iy >= 0 && iy < g.height ? plane + iy * g.width : nil, g, tilesX: tilesX,
                                 into: ring + ((4 * r + k) % 6) * slotSize, stride: vectorTiles, padded: padded)
                }
                let t0 = r * tilesX
                let s0 = ring + ((4 * r) % 6) * slotSize, s1 = ring + ((4 * r + 1) % 6) * slotSize
                let s2 = ring + ((4 * r + 2) % 6) * slotSize, s3 = ring + ((4 * r + 3) % 6) * slotSize
                let s4 = ring + ((4 * r + 4) % 6) * slotSize, s5 = ring + ((4 * r + 5) % 6) * slotSize
                for c in 0..<6 {
                    let o = c * vectorTiles
                    let a0 = s0 + o, a1 = s1 + o, a2 = s2 + o, a3 = s3 + o, a4 = s4 + o, a5 = s5 + o
                    let out = v + (c * cin + ci) * tiles + t0, step = 6 * cin * tiles
                    @inline(__always) func vector(_ tx: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                        inputTransform(Winograd.load8(a0 + tx), Winograd.load8(a1 + tx), Winograd.load8(a2 + tx),
                                       Winograd.load8(a3 + tx), Winograd.load8(a4 + tx), Winograd.load8(a5 + tx))
                    }
                    guard tilesX >= 8 else {
                        // Fewer tiles than lanes: the slots are padded to 8. All eight lanes
                        // may be stored while the spill lands on entries written later (the
                        // next tile rows of this (ξ, ci), or of (ξ, ci + 1 …)), that is,
                        // before (ξ + 1, 0); otherwise only the real ones.
                        let t = vector(0)
                        if ci * tiles + t0 + 8 <= cin * tiles {
                            Winograd.store(t.0, out); Winograd.store(t.1, out + step); Winograd.store(t.2, out + 2 * step)
                            Winograd.store(t.3, out + 3 * step); Winograd.store(t.4, out + 4 * step)
                            Winograd.store(t.5, out + 5 * step)
                            continue
                        }
                        for l in 0..<tilesX {
                            out[l] = t.0[l]; out[step + l] = t.1[l]; out[2 * step + l] = t.2[l]
                            out[3 * step + l] = t.3[l]; out[4 * step + l] = t.4[l]; out[5 * step + l] = t.5[l]
                        }
                        continue
                    }
                    Winograd.sweep(tiles: tilesX, vectors: 0, tilesX, vector: { tx in
                        let t = vector(tx)
                        Winograd.store(t.0, out + tx); Winograd.store(t.1, out + step + tx)
                        Winograd.store(t.2, out + 2 * step + tx); Winograd.store(t.3, out + 3 * step + tx)
                        Winograd.store(t.4, out + 4 * step + tx); Winograd.store(t.5, out + 5 * step + tx)
                    }, scalar: { _ in })
                }
            }
        }
    }

    /// d·B along one input row (nil: zero padding): tile tx reads columns 4·tx − p …
    /// 4·tx − p + 5 and stores its six values at `h + c·stride + tx`. Eight interior tiles
    /// load 36 consecutive columns and split them by column mod 4.
    @inline(__always)
    static func transformRow(_ row: UnsafePointer<Float>?, _ g: ConvGeometry, tilesX: Int,
                             into h: UnsafeMutablePointer<Float>, stride: Int, padded: UnsafeMutablePointer<Float>) {
        guard let row else {
            h.update(repeating: 0, count: 6 * stride)
            return
        }
        let p = g.padding, width = g.width
        @inline(__always) func vectorTiles(_ src: UnsafePointer<Float>) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
            let a = Winograd.load16(src), b = Winograd.load16(src + 16)
            let c = Winograd.load16(src + 4), d = Winograd.load16(src + 20)
            let even = SIMD16(lowHalf: a.evenHalf, highHalf: b.evenHalf), odd = SIMD16(lowHalf: a.oddHalf, highHalf: b.oddHalf)
            let even4 = SIMD16(lowHalf: c.evenHalf, highHalf: d.evenHalf), odd4 = SIMD16(lowHalf: c.oddHalf, highHalf: d.oddHalf)
            return inputTransform(even.evenHalf, odd.evenHalf, even.oddHalf, odd.oddHalf, even4.evenHalf, odd4.evenHalf)
        }
        // Tiles whose 36 columns lie inside the row, in groups of 8, load straight from it;
        // the rest go through a scalar path with bounds checks.
        let first = (p + 3) / 4
        let lastStart = width + p - 36 >= 0 ? (width + p - 36) / 4 : -8
        let hi = min(tilesX, lastStart + 8), direct = hi - first >= 8 ? hi - first : 0
        if tilesX - direct > 2 {
            // A narrow row (up to ~16 tiles, where most tiles would be scalar): copy it
            // zero-padded once, then every tile is a vector lane.
            let count = 4 * stride + 8
            padded.update(repeating: 0, count: count)
            (padded + p).update(from: row, count: min(width, count - p))
            var tx = 0
            while tx < stride {
                let t = vectorTiles(UnsafePointer(padded + 4 * tx))
                Winograd.store(t.0, h + tx); Winograd.store(t.1, h + stride + tx); Winograd.store(t.2, h + 2 * stride + tx)
                Winograd.store(t.3, h + 3 * stride + tx); Winograd.store(t.4, h + 4 * stride + tx); Winograd.store(t.5, h + 5 * stride + tx)
                tx += 8
            }
            return
        }
        @inline(__always) func emit<V: SIMD>(_ t: (V, V, V, V, V, V), _ tx: Int, _ put: (V, UnsafeMutablePointer<Float>) -> Void) where V.Scalar == Float {
            put(t.0, h + tx); put(t.1, h + stride + tx); put(t.2, h + 2 * stride + tx)
            put(t.3, h + 3 * stride + tx); put(t.4, h + 4 * stride + tx); put(t.5, h + 5 * stride + tx)
        }
        Winograd.sweep(tiles: tilesX, vectors: first, hi, vector: { tx in
            emit(vectorTiles(row + (4 * tx - p)), tx) { Winograd.store($0, $1) }
        }, scalar: { tx in
            let c = 4 * tx - p
            @inline(__always) func at(_ i: Int) -> Float { i >= 0 && i < width ? row[i] : 0 }
            emit(inputTransform(SIMD2(at(c), 0), SIMD2(at(c + 1), 0), SIMD2(at(c + 2), 0),
                                SIMD2(at(c + 3), 0), SIMD2(at(c + 4), 0), SIMD2(at(c + 5), 0)), tx) { $1[0] = $0[0] }
        })
    }

    /// y tile = Aᵀ·m·A (+ bias) from M[ξ][co][t]; outputs past the image's last row or
    /// column are dropped.
    static func transformOutput(_ m: UnsafePointer<Float>, ld tiles: Int, _ g: ConvGeometry, band: ConvBand,
                                bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let tilesX = tilesX(g), cout = g.outChannels, ho = g.outHeight, wo = g.outWidth
        let fullX = wo / 4, stride = cout * tiles
        if acrossRows(g, tiles: tiles) {
            transformOutputAcrossRows(m, ld: tiles, g, band: band, bias: bias, into: y)
            return
        }
        for co in 0..<cout {
            let b = bias?[co] ?? 0
            let plane = y + (band.image * cout + co) * ho * wo
            let mc = m + co * tiles
            for r in 0..<band.rows {
                let oy = 4 * (band.firstRow + r)
                let rows = min(4, ho - oy)
                let q0 = mc + r * tilesX
                /// Aᵀ·M·A (+ bias) for the tile(s) whose M[ξ] `load(ξ)` reads: four output rows.
                @inline(__always) func tile<V: SIMD>(_ load: (Int) -> V) -> ((V, V, V, V), (V, V, V, V), (V, V, V, V), (V, V, V, V)) where V.Scalar == Float {
                    // Aᵀ·M down the columns: s_j = (s[0][j], …, s[3][j]).
                    @inline(__always) func column(_ j: Int) -> (V, V, V, V) {
                        outputTransform(load(j), load(6 + j), load(12 + j), load(18 + j), load(24 + j), load(30 + j))
                    }
                    let s0 = column(0), s1 = column(1), s2 = column(2), s3 = column(3), s4 = column(4), s5 = column(5)
                    let bv = V(repeating: b)
                    @inline(__always) func rowOut(_ k0: V, _ k1: V, _ k2: V, _ k3: V, _ k4: V, _ k5: V) -> (V, V, V, V) {
                        let t = outputTransform(k0, k1, k2, k3, k4, k5)
                        return (t.0 + bv, t.1 + bv, t.2 + bv, t.3 + bv)
                    }
                    return (rowOut(s0.0, s1.0, s2.0, s3.0, s4.0, s5.0), rowOut(s0.1, s1.1, s2.1, s3.1, s4.1, s5.1),
                            rowOut(s0.2, s1.2, s2.2, s3.2, s4.2, s5.2), rowOut(s0.3, s1.3, s2.3, s3.3, s4.3, s5.3))
                }
                @inline(__always) func row<V>(_ out: ((V, V, V, V), (V, V, V, V), (V, V, V, V), (V, V, V, V)), _ a: Int) -> (V, V, V, V) {
                    a == 0 ? out.0 : a == 1 ? out.1 : a == 2 ? out.2 : out.3
                }
                Winograd.sweep(tiles: tilesX, vectors: 0, fullX, vector: { tx in
                    let q = q0 + tx
                    let out = tile { Winograd.load8(q + $0 * stride) }
                    for a in 0..<rows {
                        let (y0, y1, y2, y3) = row(out, a)
                        let p02 = Winograd.interleave(y0, y2), p13 = Winograd.interleave(y1, y3)
                        let dst = plane + (oy + a) * wo + 4 * tx
                        Winograd.store(Winograd.interleave(p02.lowHalf, p13.lowHalf), dst)
                        Winograd.store(Winograd.interleave(p02.highHalf, p13.highHalf), dst + 16)
                    }
                }, scalar: { tx in
                    let q = q0 + tx
                    let out = tile { SIMD2(q[$0 * stride], 0) }
                    let columns = min(4, wo - 4 * tx)
                    for a in 0..<rows {
                        let dst = plane + (oy + a) * wo + 4 * tx, values = row(out, a)
                        dst[0] = values.0[0]
                        if columns > 1 { dst[1] = values.1[0] }
                        if columns > 2 { dst[2] = values.2[0] }
                        if columns > 3 { dst[3] = values.3[0] }
                    }
                })
            }
        }
    }

    /// `transformOutput` where `acrossRows`: lanes are the band's tiles t … t + 7, each
    /// scattered four columns at a time.
    static func transformOutputAcrossRows(_ m: UnsafePointer<Float>, ld tiles: Int, _ g: ConvGeometry, band: ConvBand,
                                          bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let tilesX = tilesX(g), cout = g.outChannels, wo = g.outWidth, stride = cout * tiles
        @inline(__always) func store4(_ v: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>) {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Float>.self)
        }
        var t = 0
        while t < tiles {
            let t0 = min(t, tiles - 8)
            let origin = tileOrigins(from: t0, band: band, tilesX: tilesX, width: wo)
            for co in 0..<cout {
                let bv = SIMD8<Float>(repeating: bias?[co] ?? 0)
                let plane = y + (band.image * cout + co) * g.outHeight * wo, q = m + co * tiles + t0
                @inline(__always) func column(_ j: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                    outputTransform(Winograd.load8(q + j * stride), Winograd.load8(q + (6 + j) * stride),
                                    Winograd.load8(q + (12 + j) * stride), Winograd.load8(q + (18 + j) * stride),
                                    Winograd.load8(q + (24 + j) * stride), Winograd.load8(q + (30 + j) * stride))
                }
                let s0 = column(0), s1 = column(1), s2 = column(2), s3 = column(3), s4 = column(4), s5 = column(5)
                @inline(__always) func emitRow(_ a: Int, _ k0: SIMD8<Float>, _ k1: SIMD8<Float>, _ k2: SIMD8<Float>,
                                               _ k3: SIMD8<Float>, _ k4: SIMD8<Float>, _ k5: SIMD8<Float>) {
                    let r = outputTransform(k0, k1, k2, k3, k4, k5)
                    let p02 = Winograd.interleave(r.0 + bv, r.2 + bv), p13 = Winograd.interleave(r.1 + bv, r.3 + bv)
                    let lo = Winograd.interleave(p02.lowHalf, p13.lowHalf), hi = Winograd.interleave(p02.highHalf, p13.highHalf)
                    let dst = plane + a * wo
                    store4(lo.lowHalf.lowHalf, dst + origin[0])
                    store4(lo.lowHalf.highHalf, dst + origin[1])
                    store4(lo.highHalf.lowHalf, dst + origin[2])
                    store4(lo.highHalf.highHalf, dst + origin[3])
                    store4(hi.lowHalf.lowHalf, dst + origin[4])
                    store4(hi.lowHalf.highHalf, dst + origin[5])
                    store4(hi.highHalf.lowHalf, dst + origin[6])
                    store4(hi.highHalf.highHalf, dst + origin[7])
                }
                emitRow(0, s0.0, s1.0, s2.0, s3.0, s4.0, s5.0)
                emitRow(1, s0.1, s1.1, s2.1, s3.1, s4.1, s5.1)
                emitRow(2, s0.2, s1.2, s2.2, s3.2, s4.2, s5.2)
                emitRow(3, s0.3, s1.3, s2.3, s3.3, s4.3, s5.3)
            }
            t += 8
        }
    }
}
