// The ECDP network's parameter counts, shapes, the SDE marginals and the hybrid formula
// (the network against the official code itself: OfficialParityTests).
import Checkpoints
import ECDP
import Foundation
import Grad
import GradNN
import TestSupport
import Testing

let micro = ModelConfig(channels: [16, 16], blocks: [1, 1], rrdbFeatures: 4, rrdbGrowth: 4, rrdbBlocks: 1, rrdbSelection: [0])

func referenceTensor(_ section: [String: Any], _ name: String) -> Tensor {
    let d = section[name] as! [String: Any]
    return Tensor((d["values"] as! [Double]).map(Float.init), shape: d["shape"] as! [Int])
}

/// Largest absolute difference; tensors of different shapes, or empty ones, compare as +inf.
func maxDiff(_ a: Tensor, _ b: Tensor) -> Float {
    guard a.shape == b.shape, a.count > 0 else { return .infinity }
    return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()!
}

@Suite("ECDP model")
struct ModelTests {
    @Test func parameterCountsMatchTheOfficialArchitecture() {
        // Counts of the official architecture (the PyTorch reference network prints the same).
        let tiny = ModelConfig(channels: [16, 32, 32], blocks: [1, 1, 1], rrdbFeatures: 16, rrdbGrowth: 8, rrdbBlocks: 2, rrdbSelection: [0, 1])
        let m = ECDPModel(config: tiny)
        #expect(m.unet.parameterCount == 733_718)
        #expect(m.rrdb.parameterCount == 90_592)
    }

    @Test func oddSizesAndShapes() {
        let model = ECDPModel(config: micro)
        var rng = RandomGenerator(seed: 1)
        let x = Tensor.randomNormal([1, 3, 20, 28], using: &rng), lr = Tensor.randomUniform([1, 3, 5, 7], using: &rng)
        let out = withoutDerivatives { model.unet(x, times: [10], lrFeatures: model.rrdb(lr)) }
        #expect(out.shape == [1, 6, 20, 28])
        let odd = Tensor.randomNormal([1, 3, 18, 22], using: &rng)
        #expect(withoutDerivatives { model.unet(odd, times: [5], lrFeatures: model.rrdb(lr)) }.shape == [1, 6, 18, 22])
    }

    @Test func sdePreservesMeanAndVariance() {
        let sde = MVPSDE()
        #expect(sde.alphaBar(0) == 1)
        #expect(sde.alphaBar(300) < 1e-4)
        var rng = RandomGenerator(seed: 2)
        let n = 200_000
        let x0 = Tensor.randomNormal([n], using: &rng)  // unit variance, zero mean (normalized residual)
        for t in [1.0, 60, 150, 299] {
            let a = Float(sde.alphaBar(t).squareRoot()), b = Float((1 - sde.alphaBar(t)).squareRoot())
            let xt = (x0 * a + Tensor.randomNormal([n], using: &rng) * b).scalars.map(Double.init)
            let mean = xt.reduce(0, +) / Double(n)
            let variance = xt.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
            #expect(abs(mean) < 0.01, "t \(t) mean \(mean)")
            #expect(abs(variance - 1) < 0.015, "t \(t) variance \(variance)")
        }
    }

    @Test func hybridFormulaAtLambdaZeroAndOne() {
        let model = ECDPModel(config: micro)
        var rng = RandomGenerator(seed: 3)
        let x = Tensor.randomNormal([1, 3, 8, 8], using: &rng), lr = Tensor.randomUniform([1, 3, 2, 2], using: &rng)
        withoutDerivatives {
            let feats = model.rrdb(lr)
            let t = 120.0, abar = model.diffusion.sde.alphaBar(t)
            let pred = model.unet(x, times: [Float(t)], lrFeatures: feats).split(sizes: [3, 3], axis: 1)
            model.diffusion.parametrization = .eps
            #expect(maxDiff(model.noiseEstimate(xt: x, time: t, lrFeatures: feats), pred[0]) == 0)
            model.diffusion.parametrization = .x0
            let fromX0 = (x - pred[1] * Float(abar.squareRoot())) / Float((1 - abar).squareRoot())
            #expect(maxDiff(model.noiseEstimate(xt: x, time: t, lrFeatures: feats), fromX0) < 1e-5)
            model.diffusion.parametrization = .hybrid
            let mixed = pred[0] * Float(abar) + fromX0 * Float(1 - abar)
            #expect(maxDiff(model.noiseEstimate(xt: x, time: t, lrFeatures: feats), mixed) < 1e-5)
        }
    }

    @Test func lossFallsOnAFixedBatch() {
        let model = ECDPModel(config: micro, seed: 4)
        var rng = RandomGenerator(seed: 5)
        let hr = Tensor.randomUniform([2, 3, 16, 16], using: &rng)
        let lr = hr.resized(height: 4, width: 4, mode: .bilinear)
        let params = model.parameters()
        let adam = Adam(groups: [ParameterGroup(name: "all", parameters: params, learningRate: 1e-3)])
        var losses: [Float] = []
        for _ in 0..<15 {
            var noise = RandomGenerator(seed: 6)  // same t and ε each step: a fixed objective
            adam.zeroGradients()
            losses.append(accumulateGradients(of: params.map(\.parameter)) { model.loss(hr: hr, lr: lr, using: &noise) }.item)
            adam.step()
        }
        #expect(losses.last! < losses.first! * 0.8, "\(losses)")
    }
}
