// Naive versions of the BLAS-backed kernels. Test oracles only: slow on purpose,
// written for obviousness, accumulated in Double.

public enum Reference {
    /// C = A·B, row-major, no transposes.
    public static func matmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(a[i * k + p]) * Double(b[p * n + j]) }
                c[i * n + j] = Float(s)
            }
        }
        return c
    }

    /// Direct convolution with the definition's loops.
    public static func conv2d(_ x: [Float], _ w: [Float], _ bias: [Float]?, _ g: ConvGeometry) -> [Float] {
        let ho = g.outHeight, wo = g.outWidth
        var y = [Float](repeating: 0, count: g.batch * g.outChannels * ho * wo)
        for n in 0..<g.batch {
            for co in 0..<g.outChannels {
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        var s = Double(bias?[co] ?? 0)
                        for ci in 0..<g.inChannels {
                            for ky in 0..<g.kernelHeight {
                                for kx in 0..<g.kernelWidth {
                                    let iy = oy * g.stride - g.padding + ky, ix = ox * g.stride - g.padding + kx
                                    guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                                    let xv = x[((n * g.inChannels + ci) * g.height + iy) * g.width + ix]
                                    let wv = w[((co * g.inChannels + ci) * g.kernelHeight + ky) * g.kernelWidth + kx]
                                    s += Double(xv) * Double(wv)
                                }
                            }
                        }
                        y[((n * g.outChannels + co) * ho + oy) * wo + ox] = Float(s)
                    }
                }
            }
        }
        return y
    }

    /// Gradients of `conv2d` for the cotangent `dy`, by the same loops run backwards.
    public static func conv2dBackward(_ x: [Float], _ w: [Float], _ dy: [Float], _ g: ConvGeometry)
        -> (dx: [Float], dw: [Float], db: [Float]) {
        let ho = g.outHeight, wo = g.outWidth
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
        var db = [Double](repeating: 0, count: g.outChannels)
        for n in 0..<g.batch {
            for co in 0..<g.outChannels {
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        let d = Double(dy[((n * g.outChannels + co) * ho + oy) * wo + ox])
                        db[co] += d
                        for ci in 0..<g.inChannels {
                            for ky in 0..<g.kernelHeight {
                                for kx in 0..<g.kernelWidth {
                                    let iy = oy * g.stride - g.padding + ky, ix = ox * g.stride - g.padding + kx
                                    guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                                    let xi = ((n * g.inChannels + ci) * g.height + iy) * g.width + ix
                                    let wi = ((co * g.inChannels + ci) * g.kernelHeight + ky) * g.kernelWidth + kx
                                    dx[xi] += d * Double(w[wi])
                                    dw[wi] += d * Double(x[xi])
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dx.map { Float($0) }, dw.map { Float($0) }, db.map { Float($0) })
    }
}
