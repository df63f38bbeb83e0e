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
    }

    /// Tile rows `firstTileRow..<firstTileRow+tileRows` of image `image`.
    struct Band {
        var image, firstTileRow, tileRows: Int
    }

    static func bands(_ g: ConvGeometry) -> [Band] {
        let tilesY = (g.outHeight + 1) / 2, tilesX = (g.outWidth + 1) / 2
        let tilesPerBand = Convolution.bandFloats / (16 * (g.inChannels + g.outChannels))
        let rows = max(1, min(tilesY, tilesPerBand / tilesX))
        var result: [Band] = []
        for n in 0..<g.batch {
            var r = 0
            while r < tilesY {
                result.append(Band(image: n, firstTileRow: r, tileRows: min(rows, tilesY - r)))
                r += rows
            }
        }
        return result
    }

    /// U[ξ][co][ci] = (G·w[co, ci]·Gᵀ)[ξ], ξ = 4·row + column of the 4×4 transform.
    static func transformWeights(_ w: UnsafePointer<Float>, outChannels: Int, inChannels: Int,
                                 into u: UnsafeMutablePointer<Float>) {
        let stride = outChannels * inChannels
        for co in 0..<outChannels {
            for ci in 0..<inChannels {
                let k = w + (co * inChannels + ci) * 9
                let out = u + co * inChannels + ci
                // G·g (4×3), G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], then (G·g)·Gᵀ row by row.
                @inline(__always) func store(row i: Int, _ b0: Float, _ b1: Float, _ b2: Float) {
                    out[(4 * i) * stride] = b0
                    out[(4 * i + 1) * stride] = 0.5 * (b0 + b1 + b2)
                    out[(4 * i + 2) * stride] = 0.5 * (b0 - b1 + b2)
                    out[(4 * i + 3) * stride] = b2
                }
                @inline(__always) func column(_ j: Int) -> (Float, Float, Float, Float) {
                    let a0 = k[j], a1 = k[3 + j], a2 = k[6 + j]
                    return (a0, 0.5 * (a0 + a1 + a2), 0.5 * (a0 - a1 + a2), a2)
                }
                let c0 = column(0), c1 = column(1), c2 = column(2)
                store(row: 0, c0.0, c1.0, c2.0)
                store(row: 1, c0.1, c1.1, c2.1)
                store(row: 2, c0.2, c1.2, c2.2)
                store(row: 3, c0.3, c1.3, c2.3)
            }
        }
    }

    /// `y = conv(x, w) + bias` for an applicable geometry (see `isApplicable`).
    static func forward(x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let cin = g.inChannels, cout = g.outChannels
        let tilesX = (g.outWidth + 1) / 2
        let bands = bands(g)
        Workspace.withBuffer(count: 16 * cout * cin) { u in
            transformWeights(w, outChannels: cout, inChannels: cin, into: u)
            let uc = UnsafePointer(u)
            Parallel.forEach(chunks: bands.count, work: 8 * cout * cin * g.batch * g.outHeight * g.outWidth) { i in
                let band = bands[i], tiles = band.tileRows * tilesX
                let rowScratch = 4 * 4 * tilesX + 2 * tilesX + 4
                Workspace.withBuffer(count: 16 * (cin + cout) * tiles + rowScratch) { buffer in
                    let v = buffer, m = buffer + 16 * cin * tiles, scratch = m + 16 * cout * tiles
                    transformInput(x, g, band: band, into: v, scratch: scratch)
                    for xi in 0..<16 {
                        BLAS.sgemm(m: cout, n: tiles, k: cin, a: uc + xi * cout * cin, lda: cin,
                                   b: v + xi * cin * tiles, ldb: tiles, c: m + xi * cout * tiles, ldc: tiles)
                    }
                    transformOutput(m, g, band: band, bias: bias, into: y)
                }
            }
        }
    }

    /// V[ξ][ci][t] = (Bᵀ·d·B)[ξ] for the 4×4 input tile d of every tile t of the band,
    /// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].
    static func transformInput(_ x: UnsafePointer<Float>, _ g: ConvGeometry, band: Band,
                               into v: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let tilesX = (g.outWidth + 1) / 2, tiles = band.tileRows * tilesX
        let cin = g.inChannels, p = g.padding, width = g.width
        let paddedWidth = 2 * tilesX + 2
        // h[r][c][tx]: row r of the tile after the transform along x (d·B), then Bᵀ·h.
        let h = scratch, padded = scratch + 16 * tilesX
        for ci in 0..<cin {
            let plane = x + (band.image * cin + ci) * g.height * width
            for r in 0..<band.tileRows {
                let ty = band.firstTileRow + r
                for row in 0..<4 {
                    let iy = 2 * ty - p + row
                    let hr = h + 4 * row * tilesX
                    if iy < 0 || iy >= g.height {
                        for j in 0..<(4 * tilesX) { hr[j] = 0 }
                        continue
                    }
                    // Input columns −p ..< 2·tilesX + 2 − p with zeros outside the image.
                    let src = plane + iy * width
                    let lo = min(paddedWidth, p), hi = max(lo, min(paddedWidth, width + p))
                    for j in 0..<lo { padded[j] = 0 }
                    for j in lo..<hi { padded[j] = src[j - p] }
                    for j in hi..<paddedWidth { padded[j] = 0 }
                    let h0 = hr, h1 = hr + tilesX, h2 = hr + 2 * tilesX, h3 = hr + 3 * tilesX
                    for tx in 0..<tilesX {
                        let d0 = padded[2 * tx], d1 = padded[2 * tx + 1]
                        let d2 = padded[2 * tx + 2], d3 = padded[2 * tx + 3]
                        h0[tx] = d0 - d2
                        h1[tx] = d1 + d2
                        h2[tx] = d2 - d1
                        h3[tx] = d1 - d3
                    }
                }
                let t0 = r * tilesX
                for c in 0..<4 {
                    let a0 = h + c * tilesX, a1 = h + (4 + c) * tilesX
                    let a2 = h + (8 + c) * tilesX, a3 = h + (12 + c) * tilesX
                    let v0 = v + (c * cin + ci) * tiles + t0
                    let v1 = v + ((4 + c) * cin + ci) * tiles + t0
                    let v2 = v + ((8 + c) * cin + ci) * tiles + t0
                    let v3 = v + ((12 + c) * cin + ci) * tiles + t0
                    for tx in 0..<tilesX {
                        v0[tx] = a0[tx] - a2[tx]
                        v1[tx] = a1[tx] + a2[tx]
                        v2[tx] = a2[tx] - a1[tx]
                        v3[tx] = a1[tx] - a3[tx]
                    }
                }
            }
        }
    }

    /// y tile = Aᵀ·m·A (+ bias) from M[ξ][co][t], Aᵀ = [1 1 1 0; 0 1 −1 −1]; outputs past
    /// the image's last row or column (odd sizes) are dropped.
    static func transformOutput(_ m: UnsafePointer<Float>, _ g: ConvGeometry, band: Band,
                                bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let tilesX = (g.outWidth + 1) / 2, tiles = band.tileRows * tilesX
        let cout = g.outChannels, ho = g.outHeight, wo = g.outWidth
        let fullX = wo / 2
        for co in 0..<cout {
            let b = bias?[co] ?? 0
            let plane = y + (band.image * cout + co) * ho * wo
            func mrow(_ xi: Int) -> UnsafePointer<Float> { m + (xi * cout + co) * tiles }
            let m0 = mrow(0), m1 = mrow(1), m2 = mrow(2), m3 = mrow(3)
            let m4 = mrow(4), m5 = mrow(5), m6 = mrow(6), m7 = mrow(7)
            let m8 = mrow(8), m9 = mrow(9), m10 = mrow(10), m11 = mrow(11)
            let m12 = mrow(12), m13 = mrow(13), m14 = mrow(14), m15 = mrow(15)
            for r in 0..<band.tileRows {
                let oy = 2 * (band.firstTileRow + r)
                let top = plane + oy * wo
                let hasBottom = oy + 1 < ho
                let bottom = plane + (hasBottom ? oy + 1 : oy) * wo
                let t0 = r * tilesX
                @inline(__always) func tile(_ t: Int) -> (Float, Float, Float, Float) {
                    // Aᵀ·m: rows s0 = m0 + m1 + m2, s1 = m1 − m2 − m3 (per column j).
                    let s00 = m0[t] + m4[t] + m8[t], s01 = m1[t] + m5[t] + m9[t]
                    let s02 = m2[t] + m6[t] + m10[t], s03 = m3[t] + m7[t] + m11[t]
                    let s10 = m4[t] - m8[t] - m12[t], s11 = m5[t] - m9[t] - m13[t]
                    let s12 = m6[t] - m10[t] - m14[t], s13 = m7[t] - m11[t] - m15[t]
                    return (s00 + s01 + s02 + b, s01 - s02 - s03 + b,
                            s10 + s11 + s12 + b, s11 - s12 - s13 + b)
                }
                if hasBottom {
                    for tx in 0..<fullX {
                        let (y00, y01, y10, y11) = tile(t0 + tx)
                        top[2 * tx] = y00; top[2 * tx + 1] = y01
                        bottom[2 * tx] = y10; bottom[2 * tx + 1] = y11
                    }
                } else {
                    for tx in 0..<fullX {
                        let (y00, y01, _, _) = tile(t0 + tx)
                        top[2 * tx] = y00; top[2 * tx + 1] = y01
                    }
                }
                if fullX < tilesX {
                    let (y00, _, y10, _) = tile(t0 + fullX)
                    top[2 * fullX] = y00
                    if hasBottom { bottom[2 * fullX] = y10 }
                }
            }
        }
    }
}
