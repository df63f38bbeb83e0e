// Forward values and input gradients against PyTorch (fixtures from
// Tests/Fixtures/generate_grad_fixtures.py). Tolerance 1e-5 absolute for values of
// order 1 (fp32 with a different summation order), stated per test.
import Grad
import GradKernels
import Testing

@Suite("PyTorch parity")
struct PyTorchParityTests {
    let cases: [String: FixtureCase]
    init() throws { cases = try Fixtures.gradReference() }

    /// Runs `f` on the fixture's inputs (in `order`), compares output and gradients.
    func check(_ name: String, order: [String], tolerance: Float = 2e-5, _ f: @escaping ([Tensor]) -> Tensor) throws {
        let c = try #require(cases[name], "fixture \(name) missing")
        let inputs = order.map { c.inputs[$0]!.tensor }
        let r = vjp(at: inputs, cotangent: c.outputs["cotangent"]!.tensor, of: f)
        let expected = c.outputs["output"]!.tensor
        #expect(r.value.shape == expected.shape, "\(name) shape")
        #expect(maxDifference(r.value, expected) <= tolerance, "\(name) forward")
        for (k, g) in zip(order, r.gradients) {
            #expect(maxDifference(g, c.outputs["grad_" + k]!.tensor) <= tolerance * 5, "\(name) d\(k)")
        }
    }

    @Test func resize() throws {
        for (mode, m) in [("bilinear", ResizeMode.bilinear), ("bicubic", .bicubic)] {
            for (h, w) in [(13, 20), (4, 5), (7, 18), (3, 11)] {
                try check("resize_\(mode)_\(h)x\(w)", order: ["x"]) { $0[0].resized(height: h, width: w, mode: m) }
            }
        }
        try check("nearest2x", order: ["x"]) { $0[0].upsampledNearest2x() }
    }

    @Test func groupNorm() throws {
        try check("group_norm_4", order: ["x", "w", "b"], tolerance: 1e-4) {
            Tensor.groupNorm($0[0], groups: 4, gamma: $0[1], beta: $0[2])
        }
    }

    @Test func convolution() throws {
        for (s, p, k) in [(1, 1, 3), (2, 1, 3), (1, 0, 1), (1, 2, 5)] {
            try check("conv_s\(s)_p\(p)_k\(k)", order: ["x", "w", "b"], tolerance: 1e-4) {
                Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], stride: s, padding: p)
            }
        }
    }

    @Test func poolingAndActivations() throws {
        try check("max_pool_2x2", order: ["x"]) { $0[0].maxPooled2x2() }
        try check("max_pool_3x3_s2", order: ["x"]) { $0[0].maxPooled(kernel: 3, stride: 2) }
        try check("max_pool_3x3_s2_ceil", order: ["x"]) { $0[0].maxPooled(kernel: 3, stride: 2, ceilMode: true) }
        try check("silu", order: ["x"]) { $0[0].silu() }
        try check("leaky_relu", order: ["x"]) { $0[0].leakyReLU(slope: 0.2) }
    }
}
