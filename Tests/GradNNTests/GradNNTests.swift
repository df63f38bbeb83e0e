// Layers, parameter paths, loading, optimizers (Adam against PyTorch), schedules, EMA,
// clipping, and a whole training step returning memory to baseline.
import Foundation
import Grad
import GradNN
import TestSupport
import Testing

final class TwoLayer: Module {
    let conv1: Conv2d, norm: GroupNorm, head: Linear
    var isTraining = true
    init(seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        conv1 = Conv2d(3, 8, kernelSize: 3, padding: 1, using: &rng)
        norm = GroupNorm(groups: 2, channels: 8)
        head = Linear(8, 2, using: &rng)
    }
    var children: [(name: String, module: any Module)] { [("conv1", conv1), ("norm", norm), ("head", head)] }
    func callAsFunction(_ x: Tensor) -> Tensor {
        let h = norm(conv1(x)).silu().mean(axes: [2, 3])
        return head(h)
    }
}

@Suite("GradNN")
struct GradNNTests {
    @Test func parameterPathsAndCounts() {
        let m = TwoLayer(seed: 1)
        #expect(m.parameters().map(\.path) == ["conv1.weight", "conv1.bias", "norm.weight", "norm.bias", "head.weight", "head.bias"])
        #expect(m.parameterCount == 8 * 3 * 9 + 8 + 8 + 8 + 16 + 2)
        var rng = RandomGenerator(seed: 3)
        let seq = Sequential([Linear(2, 3, using: &rng), Activation(.silu), Linear(3, 1, using: &rng)])
        #expect(seq.parameters().map(\.path) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        m.setTraining(false)
        #expect(!m.isTraining && !m.conv1.isTraining)
    }

    @Test func loadRejectsMissingUnexpectedAndMisshapenKeys() throws {
        let m = TwoLayer(seed: 1)
        var state = m.stateDict()
        try m.load(state)
        state["extra.weight"] = .zeros([1])
        #expect(throws: ParameterLoadError.unexpected(["extra.weight"])) { try m.load(state) }
        state["extra.weight"] = nil
        state["head.bias"] = nil
        #expect(throws: ParameterLoadError.missing(["head.bias"])) { try m.load(state) }
        state["head.bias"] = .zeros([3])
        #expect(throws: ParameterLoadError.shapeMismatch(path: "head.bias", expected: [2], found: [3])) { try m.load(state) }
    }

    @Test func defaultInitialisationBounds() {
        var rng = RandomGenerator(seed: 5)
        let conv = Conv2d(16, 8, kernelSize: 3, initScale: 0.1, using: &rng)
        let bound = 1 / Float(16 * 9).squareRoot()
        #expect(conv.weight.value.scalars.allSatisfy { Swift.abs($0) <= bound * 0.1 })
        #expect(conv.weight.value.scalars.contains { Swift.abs($0) > bound * 0.05 })
        #expect(conv.bias!.value.scalars.allSatisfy { Swift.abs($0) <= bound })
        let zeroBias = Conv2d(4, 4, kernelSize: 1, biasInit: .zeros, using: &rng)
        #expect(zeroBias.bias!.value.scalars.allSatisfy { $0 == 0 })
    }

    @Test func adamMatchesPyTorch() throws {
        let url = FixturePaths.fixtures.appendingPathComponent("grad_reference.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let adam = (json["cases"] as! [[String: Any]]).first { $0["name"] as? String == "adam" }!
        func tensor(_ d: Any) -> Tensor {
            let d = d as! [String: Any]
            return Tensor((d["data"] as! [Double]).map(Float.init), shape: d["shape"] as! [Int])
        }
        let inputs = adam["inputs"] as! [String: Any], outputs = adam["outputs"] as! [String: Any]
        let p1 = Parameter(tensor(inputs["p1"]!)), p2 = Parameter(tensor(inputs["p2"]!))
        let opt = Adam(groups: [ParameterGroup(name: "a", parameters: [("p1", p1)], learningRate: 1e-2),
                                ParameterGroup(name: "b", parameters: [("p2", p2)], learningRate: 3e-3)])
        for i in 0..<5 {
            p1.gradient = tensor(inputs["g1_\(i)"]!); p2.gradient = tensor(inputs["g2_\(i)"]!)
            opt.step()
        }
        // fp32 with identical operation order: agreement to a few ulps.
        let e1 = tensor(outputs["p1"]!).scalars, e2 = tensor(outputs["p2"]!).scalars
        #expect(zip(p1.value.scalars, e1).allSatisfy { Swift.abs($0 - $1) <= 1e-6 })
        #expect(zip(p2.value.scalars, e2).allSatisfy { Swift.abs($0 - $1) <= 1e-6 })
        let v = tensor(outputs["exp_avg_sq_p1"]!).scalars
        #expect(zip(opt.state.secondMoments["p1"]!, v).allSatisfy { Swift.abs($0 - $1) <= 1e-7 * max(1, Swift.abs($1)) })
        #expect(opt.state.steps["p1"] == 5)
    }

    @Test func warmupAndStepDecay() {
        let s = WarmupStepSchedule(warmupSteps: 4, milestones: [3, 5], decay: 0.5)
        #expect(s.factor(step: 0, epoch: 0) == 0.25)
        #expect(s.factor(step: 3, epoch: 0) == 1)
        #expect(s.factor(step: 100, epoch: 3) == 0.5)
        #expect(s.factor(step: 100, epoch: 6) == 0.25)
    }

    @Test func emaAndClipping() {
        let p = Parameter(Tensor([0, 10], shape: [2]))
        let ema = ExponentialMovingAverage(parameters: [("p", p)], horizon: 10)
        p.value = Tensor([10, 0], shape: [2])
        ema.update(from: [("p", p)])
        #expect(ema.averages["p"]!.scalars.map { ($0 * 1000).rounded() / 1000 } == [1, 9])
        p.gradient = Tensor([-20, 3], shape: [2])
        clipGradientValues([p], limit: 10)
        #expect(p.gradient!.scalars == [-10, 3])
    }

    @Test func trainingStepReducesLossAndFreesMemory() {
        let m = TwoLayer(seed: 2)
        var rng = RandomGenerator(seed: 4)
        let x = Tensor.randomNormal([4, 3, 8, 8], using: &rng)
        let target = Tensor([1, -1, 0.5, 0, -0.5, 1, 0, 0], shape: [4, 2])
        let params = m.parameters()
        let opt = Adam(groups: [ParameterGroup(name: "all", parameters: params, learningRate: 1e-2)])
        func step() -> Float {
            opt.zeroGradients()
            let loss = accumulateGradients(of: params.map(\.parameter)) { mseLoss(m(x), target) }
            clipGradientValues(params.map(\.parameter), limit: 10)
            opt.step()
            return loss.item
        }
        let first = step()
        opt.zeroGradients()
        // Count only this test's storages (other tests allocate concurrently). Weights are
        // updated in place and gradients cleared, so nothing made by the steps may remain.
        let scope = AllocationScope()
        var last = first
        scope.measure {
            for _ in 0..<30 { last = step() }
            opt.zeroGradients()
        }
        #expect(last < first * 0.5, "loss \(first) → \(last)")
        #expect(scope.liveBytes == 0)
    }
}
