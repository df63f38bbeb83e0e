import Foundation
@testable import GradKernels
import Testing

@Suite struct KernelTuningTests {
    @Test func parsesAssignmentsAndNamesBadOnes() throws {
        let tuned = try KernelTuning().applying(["band_floats=64k", " winograd_f4_minimum_side = 12 ", "whole_batch_floats=2M"])
        #expect(tuned.bandFloats == 65536 && tuned.winogradF4MinimumSide == 12 && tuned.wholeBatchFloats == 2 << 20)
        #expect(tuned.assignments(differingFrom: KernelTuning()) == ["band_floats=65536", "winograd_f4_minimum_side=12"])
        #expect(KernelTuning().assignments().count == KernelTuning.names.count)
        #expect(KernelTuning.names.allSatisfy { KernelTuning()[$0] != nil })
        #expect(throws: KernelTuningError.unknownName("band_float")) { try KernelTuning().applying(["band_float=3"]) }
        #expect(throws: KernelTuningError.malformed("narrow_width")) { try KernelTuning().applying(["narrow_width"]) }
        #expect(throws: KernelTuningError.badValue(name: "narrow_width", value: "0")) { try KernelTuning().applying(["narrow_width=0"]) }
        #expect(throws: KernelTuningError.badValue(name: "narrow_width", value: "x")) { try KernelTuning().applying(["narrow_width=x"]) }
        #expect(throws: KernelTuningError.badValue(name: "band_floats", value: "9999999999999999M")) {
            try KernelTuning().applying(["band_floats=9999999999999999M"])
        }
    }

    /// A scoped tuning reaches the workers of the parallel loops it starts (their threads do
    /// not inherit task-local values by themselves), and ends with its scope.
    @Test func scopedTuningReachesParallelWorkers() {
        let tuned = try! KernelTuning().applying(["band_floats=12345"])
        let seen = UnsafeMutableBufferPointer<Int>.allocate(capacity: 64)
        defer { seen.deallocate() }
        KernelTuning.with(tuned) {
            Parallel.withMaxThreads(2) {
                Parallel.forEach(chunks: 64, work: 1 << 30) { i in seen[i] = KernelTuning.current.bandFloats }
            }
        }
        #expect(seen.allSatisfy { $0 == 12345 })
        #expect(KernelTuning.current == KernelTuning())
    }

    @Test func scopedTuningDoesNotLeakIntoConcurrentTasks() async {
        let tuned = try! KernelTuning().applying(["narrow_width=7"])
        async let inside: [Int] = KernelTuning.with(tuned) {
            (0..<200).map { _ in usleep(50); return KernelTuning.current.narrowWidth }
        }
        async let outside: [Int] = (0..<200).map { _ in usleep(50); return KernelTuning.current.narrowWidth }
        let (a, b) = await (inside, outside)
        #expect(a.allSatisfy { $0 == 7 })
        #expect(b.allSatisfy { $0 == KernelTuning().narrowWidth })
    }

    /// Settings that force each convolution path on geometries the defaults send elsewhere:
    /// every path must match the direct reference there, forward and backward.
    static let forcedPaths: [(path: String, settings: [String])] = [
        ("im2col", ["winograd_minimum_pixels=1M", "whole_batch_channels_per_band_pixel=1M"]),
        ("im2col-whole-batch", ["winograd_minimum_pixels=1M", "whole_batch_channels_per_band_pixel=1", "band_floats=1"]),
        ("winograd-f2", ["winograd_minimum_pixels=1", "winograd_minimum_work=1", "winograd_f4_minimum_side=1M", "minimum_bands=1"]),
        ("winograd-f2-whole", ["winograd_minimum_pixels=1", "winograd_minimum_work=1", "band_floats=1"]),
        ("winograd-f4", ["winograd_minimum_pixels=1", "winograd_minimum_work=1", "winograd_f4_minimum_side=1", "minimum_bands=1"]),
    ]

    static let forcedGeometries = [
        ConvGeometry(batch: 2, inChannels: 16, height: 12, width: 10, outChannels: 24, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 1, inChannels: 17, height: 9, width: 7, outChannels: 9, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 0),
    ]

    @Test(arguments: forcedPaths.map(\.path), forcedGeometries)
    func everyPathMatchesTheReference(path: String, g: ConvGeometry) throws {
        let settings = Self.forcedPaths.first { $0.path == path }!.settings
        let tuning = try KernelTuning().applying(settings)
        let x = seededValues(g.batch * g.inChannels * g.height * g.width, seed: 11)
        let w = seededValues(g.outChannels * g.patchSize, seed: 12)
        let b = seededValues(g.outChannels, seed: 13)
        let dy = seededValues(g.batch * g.outChannels * g.outHeight * g.outWidth, seed: 14)
        var y = [Float](repeating: .nan, count: dy.count)
        var dx = [Float](repeating: .nan, count: x.count), dw = [Float](repeating: .nan, count: w.count)
        var db = [Float](repeating: .nan, count: g.outChannels)
        let taken = KernelTuning.with(tuning) {
            x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in b.withUnsafeBufferPointer { pb in
                dy.withUnsafeBufferPointer { pdy in y.withUnsafeMutableBufferPointer { py in
                    dx.withUnsafeMutableBufferPointer { pdx in dw.withUnsafeMutableBufferPointer { pdw in
                        db.withUnsafeMutableBufferPointer { pdb in
                            Convolution.forward(x: px.baseAddress!, weight: pw.baseAddress!, bias: pb.baseAddress!,
                                                y: py.baseAddress!, g)
                            Convolution.backward(x: px.baseAddress!, weight: pw.baseAddress!, dy: pdy.baseAddress!, g,
                                                 dx: pdx.baseAddress!, dw: pdw.baseAddress!, db: pdb.baseAddress!)
                        } } } } } } } }
            return Convolution.forwardPath(g)
        }
        #expect(taken == path)
        func error(_ a: [Float], _ b: [Float]) -> Float {
            guard a.count == b.count, a.allSatisfy(\.isFinite) else { return .infinity }
            let scale = max(1, b.map { Swift.abs($0) }.max() ?? 1)
            return zip(a, b).map { Swift.abs($0 - $1) / scale }.max() ?? 0
        }
        let ref = Reference.conv2dBackward(x, w, dy, g)
        // F(4×4)'s bound (see `winogradF4MatchesReference`); a value never written (NaN) fails.
        #expect(error(y, Reference.conv2d(x, w, b, g)) <= 2e-5)
        #expect(error(dx, ref.dx) <= 2e-5)
        #expect(error(dw, ref.dw) <= 2e-5)
        #expect(error(db, ref.db) <= 1e-5)
    }
}
