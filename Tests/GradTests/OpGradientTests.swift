// A finite-difference gradient check for every differentiable op (docs/adding-an-op.md). Tolerances:
// |analytic − numeric| ≤ atol + rtol·|numeric| with the defaults of `gradCheck`
// (atol 2e-3, rtol 1e-2, h = 1e-2) unless a test states its own.
import Grad
import GradKernels
import Testing

@Suite("Op gradients")
struct OpGradientTests {
    @Test func arithmeticWithBroadcasting() {
        let a = randn([2, 3, 4], seed: 1), b = randn([3, 1], seed: 2), c = randn([4], seed: 3)
        gradCheck("add", inputs: [a, b]) { $0[0] + $0[1] }
        gradCheck("subtract", inputs: [a, c]) { $0[0] - $0[1] }
        gradCheck("multiply", inputs: [a, b]) { $0[0] * $0[1] }
        let positive = Tensor(randn([3, 1], seed: 4).scalars.map { Swift.abs($0) + 0.5 }, shape: [3, 1])
        gradCheck("divide", inputs: [a, positive]) { $0[0] / $0[1] }
        gradCheck("scalar ops", inputs: [a]) { (2 - $0[0] * 3 + 1) / 4 }
        gradCheck("negate", inputs: [a]) { -$0[0] }
        let bias = randn([1, 3, 1, 1], seed: 5), x4 = randn([2, 3, 4, 5], seed: 6)
        gradCheck("channel bias", inputs: [x4, bias]) { $0[0] + $0[1] }
    }

    @Test func unaryFunctions() {
        let x = randn([3, 5], seed: 10)
        let positive = Tensor(x.scalars.map { Swift.abs($0) + 0.5 }, shape: x.shape)
        let kinked = awayFromZero([3, 5], seed: 11)
        gradCheck("exp", inputs: [x]) { $0[0].exp() }
        gradCheck("log", inputs: [positive]) { $0[0].log() }
        gradCheck("sin", inputs: [x]) { $0[0].sin() }
        gradCheck("cos", inputs: [x]) { $0[0].cos() }
        gradCheck("sqrt", inputs: [positive]) { $0[0].sqrt() }
        gradCheck("square", inputs: [x]) { $0[0].squared() }
        gradCheck("pow", inputs: [positive]) { $0[0].pow(1.7) }
        gradCheck("tanh", inputs: [x]) { $0[0].tanh() }
        gradCheck("abs", inputs: [kinked]) { $0[0].abs() }
        let spread = Tensor([-2, -1.2, -0.3, 0, 0.4, 0.9, 1.5], shape: [7])  // ≥ 0.1 from the bounds
        gradCheck("clamp", inputs: [spread]) { $0[0].clamped(to: -1, 1) }
    }

    @Test func activations() {
        let x = randn([4, 6], seed: 20, scale: 2)
        let kinked = awayFromZero([4, 6], seed: 21)
        gradCheck("relu", inputs: [kinked]) { $0[0].relu() }
        gradCheck("leakyReLU", inputs: [kinked]) { $0[0].leakyReLU(slope: 0.2) }
        gradCheck("sigmoid", inputs: [x]) { $0[0].sigmoid() }
        gradCheck("silu", inputs: [x]) { $0[0].silu() }
    }

    @Test func reductions() {
        let x = randn([2, 3, 4, 5], seed: 30)
        gradCheck("sum", inputs: [x]) { $0[0].sum() }
        gradCheck("mean", inputs: [x]) { $0[0].mean() }
        gradCheck("sum axes", inputs: [x]) { $0[0].sum(axes: [1, 3]) }
        gradCheck("sum axes keepdims", inputs: [x]) { $0[0].sum(axes: [0, 2], keepingDimensions: true) }
        gradCheck("mean axes", inputs: [x]) { $0[0].mean(axes: [-1]) }
        let y = randn([2, 3, 4, 5], seed: 31)
        let apart = Tensor(zip(x.scalars, y.scalars).map { $0 - $1 > 0 ? $0 + 0.1 : $0 - 0.1 }, shape: x.shape)
        gradCheck("l1Loss", inputs: [apart, y]) { l1Loss($0[0], $0[1]) }
        gradCheck("mseLoss", inputs: [x, y]) { mseLoss($0[0], $0[1]) }
        gradCheck("mseLoss sum", inputs: [x, y]) { mseLoss($0[0], $0[1], reduction: .sum) }
    }

    @Test func movement() {
        let x = randn([2, 3, 4, 5], seed: 40)
        gradCheck("reshape", inputs: [x]) { $0[0].reshaped([6, -1]) }
        gradCheck("permute", inputs: [x]) { $0[0].permuted([2, 0, 3, 1]) }
        gradCheck("transpose", inputs: [randn([3, 7], seed: 41)]) { $0[0].transposed }
        gradCheck("slice", inputs: [x]) { $0[0].slice(start: [1, 0, 1, 2], size: [1, 2, 3, 2]) }
        gradCheck("crop", inputs: [x]) { $0[0].cropped(height: 3, width: 4) }
        let y = randn([2, 2, 4, 5], seed: 42)
        gradCheck("concatenate", inputs: [x, y]) { Tensor.concatenate([$0[0], $0[1]], axis: 1) }
        gradCheck("split", inputs: [x]) { xs in
            let parts = xs[0].split(sizes: [1, 2], axis: 1)
            return parts[0] * 2 + parts[1].sum(axes: [1], keepingDimensions: true)
        }
    }

    @Test func matrixProducts() {
        let a = randn([3, 4], seed: 50), b = randn([4, 5], seed: 51)
        gradCheck("matmul", inputs: [a, b]) { Tensor.matmul($0[0], $0[1]) }
        gradCheck("matmul Aᵀ", inputs: [a.transposed.detached(), b]) { Tensor.matmul($0[0], $0[1], transposeA: true) }
        gradCheck("matmul Bᵀ", inputs: [a, b.transposed.detached()]) { Tensor.matmul($0[0], $0[1], transposeB: true) }
        gradCheck("matmul AᵀBᵀ", inputs: [a.transposed.detached(), b.transposed.detached()]) {
            Tensor.matmul($0[0], $0[1], transposeA: true, transposeB: true)
        }
        let w = randn([6, 4], seed: 52), bias = randn([6], seed: 53)
        gradCheck("linear", inputs: [a, w, bias]) { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }
    }

    @Test(arguments: [(3, 1, 1, 2), (3, 2, 1, 1), (1, 1, 0, 3), (5, 1, 2, 1), (3, 2, 0, 2)])
    func convolution(kernel: Int, stride: Int, padding: Int, batch: Int) {
        let x = randn([batch, 3, 7, 6], seed: 60), w = randn([4, 3, kernel, kernel], seed: 61, scale: 0.3)
        let b = randn([4], seed: 62)
        gradCheck("conv2d k\(kernel) s\(stride) p\(padding)", inputs: [x, w, b]) {
            Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], stride: stride, padding: padding)
        }
        gradCheck("conv2d no bias", inputs: [x, w]) {
            Tensor.conv2d($0[0], weight: $0[1], bias: nil, stride: stride, padding: padding)
        }
    }

    @Test func groupNorm() {
        let x = randn([2, 8, 3, 4], seed: 70, scale: 2) + 1
        let g = randn([8], seed: 71), b = randn([8], seed: 72)
        gradCheck("groupNorm", inputs: [x, g, b], step: 5e-3) { Tensor.groupNorm($0[0], groups: 4, gamma: $0[1], beta: $0[2]) }
        gradCheck("groupNorm 1 group", inputs: [x, g, b], step: 5e-3) { Tensor.groupNorm($0[0], groups: 1, gamma: $0[1], beta: $0[2]) }
    }

    @Test func groupNormSiLU() {
        // Odd plane (3·5) so the vector loops' tails run too.
        let x = randn([2, 8, 3, 5], seed: 73, scale: 2) + 1
        let g = randn([8], seed: 74), b = randn([8], seed: 75)
        gradCheck("groupNormSiLU", inputs: [x, g, b], step: 5e-3) {
            Tensor.groupNormSiLU($0[0], groups: 4, gamma: $0[1], beta: $0[2])
        }
        // The fused op is the composition: same values and same gradients.
        let r = randn([2, 8, 3, 5], seed: 76)
        let fused = vjp(at: [x, g, b], cotangent: r) { Tensor.groupNormSiLU($0[0], groups: 2, gamma: $0[1], beta: $0[2]) }
        let composed = vjp(at: [x, g, b], cotangent: r) { Tensor.groupNorm($0[0], groups: 2, gamma: $0[1], beta: $0[2]).silu() }
        func close(_ a: Tensor, _ b: Tensor) -> Bool {
            a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { Swift.abs($0 - $1) <= 1e-5 * max(1, Swift.abs($1)) }
        }
        #expect(close(fused.value, composed.value))
        for (f, c) in zip(fused.gradients, composed.gradients) { #expect(close(f, c)) }
    }

    @Test func resampling() {
        let x = randn([2, 2, 5, 6], seed: 80)
        gradCheck("nearest ×2", inputs: [x]) { $0[0].upsampledNearest2x() }
        for (h, w) in [(9, 13), (3, 4), (5, 12)] {
            gradCheck("bilinear \(h)×\(w)", inputs: [x]) { $0[0].resized(height: h, width: w, mode: .bilinear) }
            gradCheck("bicubic \(h)×\(w)", inputs: [x]) { $0[0].resized(height: h, width: w, mode: .bicubic) }
        }
    }

    @Test func maxPooling() {
        // Distinct values spaced by ≥ 0.05 so the ±h perturbation never changes the argmax.
        var rng = RandomGenerator(seed: 90)
        var values = (0..<(2 * 3 * 6 * 7)).map { Float($0) * 0.05 }
        values.shuffle(using: &rng)
        let x = Tensor(values, shape: [2, 3, 6, 7])
        gradCheck("maxPool2x2", inputs: [x], step: 1e-2) { $0[0].maxPooled2x2() }
        // Overlapping 3×3 windows, stride 2, the clipped ceil-mode border windows included.
        gradCheck("maxPool3x3s2 ceil", inputs: [x], step: 1e-2) { $0[0].maxPooled(kernel: 3, stride: 2, ceilMode: true) }
        gradCheck("maxPool3x3s2", inputs: [x], step: 1e-2) { $0[0].maxPooled(kernel: 3, stride: 2) }
    }
}
