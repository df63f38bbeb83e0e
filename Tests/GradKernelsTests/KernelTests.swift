// BLAS-backed kernels against the naive oracles in Reference.swift, on odd shapes, and
// thread-count independence of the parallel loops.
import Foundation
@testable import GradKernels
import Testing

func seededValues(_ n: Int, seed: UInt64) -> [Float] {
    var s = seed
    return (0..<n).map { _ in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: s >> 11) % 2001 - 1000) / 1000
    }
}

@Suite("Kernels", .serialized)
struct KernelTests {
    @Test(arguments: [(1, 1, 1), (3, 17, 5), (17, 3, 33), (64, 65, 63)])
    func sgemmMatchesReference(m: Int, n: Int, k: Int) {
        let a = seededValues(m * k, seed: 1), b = seededValues(k * n, seed: 2)
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            BLAS.sgemm(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n, c: pc.baseAddress!, ldc: n)
        } } }
        let ref = Reference.matmul(a, b, m: m, n: n, k: k)
        #expect(zip(c, ref).allSatisfy { Swift.abs($0 - $1) <= 1e-4 })
    }

    /// The unpacked Winograd GEMM: rows not a multiple of 4, panels of 16 and 8 and the
    /// last 1–7 columns, k = 0, and leading dimensions wider than the matrices (C's
    /// padding must stay untouched).
    @Test(arguments: [(1, 1, 1), (3, 7, 5), (4, 16, 96), (5, 17, 3), (9, 33, 20), (32, 24, 0), (13, 40, 31)])
    func panelGEMMMatchesReference(m: Int, n: Int, k: Int) {
        let lda = k + 3, ldb = n + 5, ldc = n + 2
        let a = seededValues(m * lda, seed: 31), b = seededValues(max(1, k) * ldb, seed: 32)
        var c = [Float](repeating: 7, count: m * ldc)
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            PanelGEMM.multiply(m: m, n: n, k: k, a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                               c: pc.baseAddress!, ldc: ldc)
        } } }
        for i in 0..<m {
            for j in 0..<ldc {
                guard j < n else {
                    #expect(c[i * ldc + j] == 7, "padding at \(i), \(j)")
                    continue
                }
                var expected: Double = 0
                for p in 0..<k { expected += Double(a[i * lda + p]) * Double(b[p * ldb + j]) }
                #expect(Swift.abs(Double(c[i * ldc + j]) - expected) <= 1e-5 * Double(max(1, k)), "at \(i), \(j)")
            }
        }
    }

    @Test(arguments: [
        ConvGeometry(batch: 1, inChannels: 1, height: 1, width: 1, outChannels: 1, kernelHeight: 1, kernelWidth: 1, stride: 1, padding: 0),
        ConvGeometry(batch: 3, inChannels: 5, height: 17, width: 9, outChannels: 7, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 2, inChannels: 3, height: 11, width: 13, outChannels: 4, kernelHeight: 3, kernelWidth: 3, stride: 2, padding: 1),
        ConvGeometry(batch: 2, inChannels: 6, height: 8, width: 5, outChannels: 3, kernelHeight: 1, kernelWidth: 1, stride: 1, padding: 0),
        ConvGeometry(batch: 1, inChannels: 2, height: 6, width: 7, outChannels: 2, kernelHeight: 5, kernelWidth: 3, stride: 1, padding: 2),
    ] + KernelTests.bandedGeometries + KernelTests.wholeBatchGeometries)
    func convolutionMatchesReference(g: ConvGeometry) {
        let x = seededValues(g.batch * g.inChannels * g.height * g.width, seed: 3)
        let w = seededValues(g.outChannels * g.patchSize, seed: 4)
        let b = seededValues(g.outChannels, seed: 5)
        var y = [Float](repeating: 0, count: g.batch * g.outChannels * g.outHeight * g.outWidth)
        x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in b.withUnsafeBufferPointer { pb in
            y.withUnsafeMutableBufferPointer { py in
                Convolution.forward(x: px.baseAddress!, weight: pw.baseAddress!, bias: pb.baseAddress!, y: py.baseAddress!, g)
            } } } }
        let ref = Reference.conv2d(x, w, b, g)
        #expect(zip(y, ref).allSatisfy { Swift.abs($0 - $1) <= 1e-4 })
    }

    /// Geometries for the Winograd path (3×3, stride 1, Cin ≥ 16: odd sizes, paddings 0–2)
    /// and ones that span several bands (Winograd and im2col, see `Convolution.bandFloats`).
    /// Small maps with many output channels, where `Convolution.usesWholeBatch`: one and
    /// several images, stride 1 (dX through the flipped forward) and stride 2 (col2im).
    static let wholeBatchGeometries = [
        ConvGeometry(batch: 1, inChannels: 8, height: 8, width: 8, outChannels: 64, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 3, inChannels: 4, height: 6, width: 7, outChannels: 40, kernelHeight: 3, kernelWidth: 3, stride: 2, padding: 1),
        ConvGeometry(batch: 2, inChannels: 5, height: 5, width: 6, outChannels: 80, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
    ]

    @Test func winogradF4AcrossRowsGeometriesTakeThatPath() {
        func counts(_ g: ConvGeometry) -> [Int] {
            WinogradF4.bands(g).map { $0.rows * WinogradF4.tilesX(g) }
                .filter { WinogradF4.acrossRows(g, tiles: $0) }
        }
        #expect(counts(ConvGeometry(batch: 2, inChannels: 16, height: 16, width: 16, outChannels: 8,
                                    kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)) == [8, 8, 8, 8])
        #expect(counts(ConvGeometry(batch: 1, inChannels: 20, height: 40, width: 12, outChannels: 12,
                                    kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)) == [9, 9, 9])
    }

    @Test(arguments: KernelTests.wholeBatchGeometries)
    func wholeBatchGeometriesTakeThatPath(g: ConvGeometry) {
        #expect(Convolution.usesWholeBatch(g) && !Winograd.isApplicable(g))
    }

    static let bandedGeometries = [
        ConvGeometry(batch: 2, inChannels: 16, height: 7, width: 9, outChannels: 8, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 1, inChannels: 17, height: 6, width: 5, outChannels: 9, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 0),
        ConvGeometry(batch: 1, inChannels: 16, height: 5, width: 4, outChannels: 16, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 2),
        ConvGeometry(batch: 1, inChannels: 16, height: 101, width: 64, outChannels: 8, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 2, inChannels: 64, height: 127, width: 64, outChannels: 4, kernelHeight: 3, kernelWidth: 3, stride: 2, padding: 1),
        ConvGeometry(batch: 2, inChannels: 600, height: 3, width: 2000, outChannels: 2, kernelHeight: 1, kernelWidth: 1, stride: 1, padding: 0),
        // Many output channels on a small map: Winograd's whole-problem layout.
        ConvGeometry(batch: 1, inChannels: 16, height: 32, width: 33, outChannels: 160, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
    ]

    @Test(arguments: [
        ConvGeometry(batch: 3, inChannels: 5, height: 17, width: 9, outChannels: 7, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 2, inChannels: 3, height: 11, width: 13, outChannels: 4, kernelHeight: 3, kernelWidth: 3, stride: 2, padding: 1),
        ConvGeometry(batch: 2, inChannels: 6, height: 8, width: 5, outChannels: 3, kernelHeight: 1, kernelWidth: 1, stride: 1, padding: 0),
    ] + KernelTests.bandedGeometries + KernelTests.wholeBatchGeometries)
    func convolutionGradientsMatchReference(g: ConvGeometry) {
        let x = seededValues(g.batch * g.inChannels * g.height * g.width, seed: 6)
        let w = seededValues(g.outChannels * g.patchSize, seed: 7)
        let dy = seededValues(g.batch * g.outChannels * g.outHeight * g.outWidth, seed: 8)
        var dx = [Float](repeating: .nan, count: x.count), dw = [Float](repeating: .nan, count: w.count)
        var db = [Float](repeating: .nan, count: g.outChannels)
        x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in dy.withUnsafeBufferPointer { pdy in
            dx.withUnsafeMutableBufferPointer { pdx in dw.withUnsafeMutableBufferPointer { pdw in
                db.withUnsafeMutableBufferPointer { pdb in
                    Convolution.backward(x: px.baseAddress!, weight: pw.baseAddress!, dy: pdy.baseAddress!, g,
                                         dx: pdx.baseAddress!, dw: pdw.baseAddress!, db: pdb.baseAddress!)
                } } } } } }
        let ref = Reference.conv2dBackward(x, w, dy, g)
        /// The largest difference relative to the largest reference value (dW sums
        /// thousands of products); infinite on a size mismatch.
        func error(_ a: [Float], _ b: [Float]) -> Float {
            let scale = max(1, b.map { Swift.abs($0) }.max() ?? 1)
            guard a.count == b.count else { return .infinity }
            return zip(a, b).map { Swift.abs($0 - $1) / scale }.max() ?? 0
        }
        // 2e-5: where F(4×4) runs, the bound of `winogradF4MatchesReference` (its
        // transforms' constants go up to 8; the 160 → 16 dX here measured 1.07e-5).
        #expect(error(dx, ref.dx) <= 2e-5)
        #expect(error(dw, ref.dw) <= 2e-5)
        #expect(error(db, ref.db) <= 1e-5)
    }

    /// Winograd directly (the public entry points use it only where it pays, `isApplicable`):
    /// odd sizes, paddings 0–2, the dropped last row/column.
    @Test(arguments: Array(KernelTests.bandedGeometries.prefix(4)) + [
        // 8–16 tiles per row: overlapping last vector group, edges on both sides.
        ConvGeometry(batch: 1, inChannels: 16, height: 9, width: 27, outChannels: 8, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 0),
        ConvGeometry(batch: 1, inChannels: 16, height: 6, width: 26, outChannels: 8, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 2),
        ConvGeometry(batch: 1, inChannels: 16, height: 5, width: 40, outChannels: 8, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
    ])
    func winogradMatchesReference(g: ConvGeometry) {
        #expect(g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1 && g.padding <= 2)
        let x = seededValues(g.batch * g.inChannels * g.height * g.width, seed: 13)
        let w = seededValues(g.outChannels * g.patchSize, seed: 14)
        let b = seededValues(g.outChannels, seed: 15)
        let dy = seededValues(g.batch * g.outChannels * g.outHeight * g.outWidth, seed: 16)
        let refY = Reference.conv2d(x, w, b, g), refDW = Reference.conv2dBackward(x, w, dy, g).dw
        let scale = max(1, refDW.map { Swift.abs($0) }.max() ?? 1)
        for layout in [Winograd.Layout.bands, .whole] {
            var y = [Float](repeating: .nan, count: dy.count), dw = [Float](repeating: .nan, count: w.count)
            x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in b.withUnsafeBufferPointer { pb in
                dy.withUnsafeBufferPointer { pdy in y.withUnsafeMutableBufferPointer { py in
                    dw.withUnsafeMutableBufferPointer { pdw in
                        Winograd.forward(x: px.baseAddress!, weight: pw.baseAddress!, bias: pb.baseAddress!,
                                         y: py.baseAddress!, g, layout: layout)
                        Winograd.weightGradient(x: px.baseAddress!, dy: pdy.baseAddress!, g, into: pdw.baseAddress!,
                                                layout: layout)
                    } } } } } }
            #expect(zip(y, refY).allSatisfy { Swift.abs($0 - $1) <= 1e-4 }, "\(layout)")
            #expect(zip(dw, refDW).allSatisfy { Swift.abs($0 - $1) <= 1e-5 * scale }, "\(layout)")
        }
    }

    /// F(4×4, 3×3) directly: sizes not divisible by 4 (dropped rows and columns), paddings
    /// 0–2, maps narrower than one vector group, 8–16 tiles per row (overlapping last group),
    /// several bands. Its rounding error is larger than F(2×2)'s: the bound is relative to
    /// the largest output.
    @Test(arguments: [
        ConvGeometry(batch: 2, inChannels: 16, height: 9, width: 11, outChannels: 8, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 1, inChannels: 17, height: 12, width: 10, outChannels: 9, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 0),
        ConvGeometry(batch: 1, inChannels: 16, height: 8, width: 7, outChannels: 16, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 2),
        ConvGeometry(batch: 1, inChannels: 16, height: 13, width: 61, outChannels: 8, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 1, inChannels: 16, height: 10, width: 70, outChannels: 8, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 0),
        ConvGeometry(batch: 1, inChannels: 16, height: 8, width: 130, outChannels: 8, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 2),
        ConvGeometry(batch: 2, inChannels: 32, height: 101, width: 64, outChannels: 24, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        // Fewer than eight tiles per row, whole tiles: the output transforms take eight
        // tiles across rows (bands of exactly 8 tiles; of 9, 9, 9 and 3).
        ConvGeometry(batch: 2, inChannels: 16, height: 16, width: 16, outChannels: 8, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 1, inChannels: 20, height: 40, width: 12, outChannels: 12, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
    ])
    func winogradF4MatchesReference(g: ConvGeometry) {
        let x = seededValues(g.batch * g.inChannels * g.height * g.width, seed: 23)
        let w = seededValues(g.outChannels * g.patchSize, seed: 24)
        let b = seededValues(g.outChannels, seed: 25)
        let refY = Reference.conv2d(x, w, b, g)
        var y = [Float](repeating: .nan, count: refY.count)
        x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in b.withUnsafeBufferPointer { pb in
            y.withUnsafeMutableBufferPointer { py in
                WinogradF4.forward(x: px.baseAddress!, weight: pw.baseAddress!, bias: pb.baseAddress!, y: py.baseAddress!, g)
            } } } }
        let scale = max(1, refY.map { Swift.abs($0) }.max() ?? 1)
        let worst = zip(y, refY).map { Swift.abs($0 - $1) }.max() ?? .nan
        #expect(worst <= 2e-5 * scale, "worst error \(worst) at scale \(scale)")
        // dW, the adjoint, summed over every tile of every band.
        let dy = seededValues(refY.count, seed: 26)
        let refDW = Reference.conv2dBackward(x, w, dy, g).dw
        var dw = [Float](repeating: .nan, count: w.count)
        x.withUnsafeBufferPointer { px in dy.withUnsafeBufferPointer { pdy in dw.withUnsafeMutableBufferPointer { pdw in
            WinogradF4.weightGradient(x: px.baseAddress!, dy: pdy.baseAddress!, g, into: pdw.baseAddress!)
        } } }
        let dwScale = max(1, refDW.map { Swift.abs($0) }.max() ?? 1)
        let worstDW = zip(dw, refDW).map { Swift.abs($0 - $1) }.max() ?? .nan
        #expect(worstDW <= 2e-5 * dwScale, "dW: worst error \(worstDW) at scale \(dwScale)")
    }

    @Test(arguments: [KernelTests.bandedGeometries[3], KernelTests.bandedGeometries[6]])
    func convolutionDoesNotDependOnThreadCount(g: ConvGeometry) {
        // The two geometries cover both Winograd layouts.
        #expect(Winograd.isApplicable(g))
        #expect(Winograd.fitsWhole(g, bands: Winograd.bands(g)) == (g.outChannels == 160))
        let x = seededValues(g.batch * g.inChannels * g.height * g.width, seed: 10)
        let w = seededValues(g.outChannels * g.patchSize, seed: 11)
        let dy = seededValues(g.batch * g.outChannels * g.outHeight * g.outWidth, seed: 12)
        func run() -> [Float] {
            var y = [Float](repeating: 0, count: dy.count), dx = x, dw = w
            x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in dy.withUnsafeBufferPointer { pdy in
                y.withUnsafeMutableBufferPointer { py in dx.withUnsafeMutableBufferPointer { pdx in
                    dw.withUnsafeMutableBufferPointer { pdw in
                        Convolution.forward(x: px.baseAddress!, weight: pw.baseAddress!, bias: nil, y: py.baseAddress!, g)
                        Convolution.backward(x: px.baseAddress!, weight: pw.baseAddress!, dy: pdy.baseAddress!, g,
                                             dx: pdx.baseAddress!, dw: pdw.baseAddress!, db: nil)
                    } } } } } }
            return y + dx + dw
        }
        // Task-local limits: suites running at the same time keep their own thread count.
        let one = Parallel.withMaxThreads(1) { run() }
        #expect(Parallel.withMaxThreads(2) { run() } == one)
    }

    @Test func resultsDoNotDependOnThreadCount() {
        let n = 1 << 20
        let x = seededValues(n, seed: 9)
        func run() -> (Double, [Float]) {
            var y = [Float](repeating: 0, count: n)
            let total = x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    Elementwise.apply(.silu, px.baseAddress!, py.baseAddress!, count: n)
                }
                return Reduce.total(px.baseAddress!, count: n)
            }
            return (total, y)
        }
        let one = Parallel.withMaxThreads(1) { run() }
        let two = Parallel.withMaxThreads(2) { run() }
        #expect(one.0 == two.0)
        #expect(one.1 == two.1)
    }

    /// A thread limit set for one task does not leak into code running concurrently, and is
    /// gone when its scope ends.
    @Test func threadLimitsDoNotLeakBetweenConcurrentTasks() async {
        let global = Parallel.maxThreads
        async let limited: [Int] = Parallel.withMaxThreads(1) {
            (0..<200).map { _ in usleep(50); return Parallel.maxThreads }
        }
        async let other: [Int] = (0..<200).map { _ in usleep(50); return Parallel.maxThreads }
        let (a, b) = await (limited, other)
        #expect(a.allSatisfy { $0 == 1 })
        #expect(b.allSatisfy { $0 == global })
        #expect(Parallel.maxThreads == global)
    }

    /// FastMath.exp against libm over its whole range (relative error in units of Float's
    /// epsilon), and at the edges: overflow to +inf, underflow to 0, NaN kept.
    @Test func fastExpAccuracyAndEdges() {
        var worst: Float = 0
        var x: Float = -87.3
        while x <= 88.3 {
            let exact = Foundation.exp(Double(x))
            let rel = Float(Swift.abs(Double(FastMath.exp(x)) - exact) / exact)
            worst = max(worst, rel)
            let lanes = FastMath.exp(FloatVector(repeating: x))
            #expect(lanes[0] == FastMath.exp(x) && lanes[7] == FastMath.exp(x), "SIMD and scalar differ at \(x)")
            x += 0.0137
        }
        #expect(worst < 3 * Float.ulpOfOne, "worst relative error \(worst)")
        for (input, expected) in [(Float.infinity, Float.infinity), (100, .infinity), (-Float.infinity, 0), (-100, 0)] {
            #expect(FastMath.exp(input) == expected, "exp(\(input))")
            #expect(FastMath.exp(FloatVector(repeating: input))[3] == expected, "SIMD exp(\(input))")
        }
        #expect(FastMath.exp(Float.nan).isNaN && FastMath.exp(FloatVector(repeating: .nan))[0].isNaN)
        #expect(FastMath.exp(0) == 1)
    }

    @Test func reduceOverAxes() {
        // [2, 3, 4] summed over axis 1 → [2, 1, 4].
        let x = (0..<24).map(Float.init)
        var out = [Float](repeating: -1, count: 8)
        x.withUnsafeBufferPointer { px in out.withUnsafeMutableBufferPointer { po in
            Reduce.sum(px.baseAddress!, shape: [2, 3, 4], into: po.baseAddress!, outShape: [2, 1, 4])
        } }
        #expect(out == [12, 15, 18, 21, 48, 51, 54, 57])
    }
}
