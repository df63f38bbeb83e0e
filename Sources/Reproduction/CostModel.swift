// Estimated CPU time of each step, for `--dry-run` and the plan's ETA. One probe per model
// architecture times a network evaluation at 64² on this machine (a few ms for `tiny`, about
// a second for the paper models); every step's cost is that per-pixel time scaled by the
// pixels and evaluations it needs. Stated assumptions, not measurements: a training step
// costs 3 forward evaluations of its batch; rk45 takes 100 evaluations per solve; a
// fine-tune step takes 100 (rtol ≥ 1e-2) or 240 forward and 50 adjoint evaluations, an adjoint
// evaluation costing 3 forward ones.
import ECDP
import Foundation
import Grad
import Imaging
import Training

final class CostModel {
    static let assumedAdaptiveEvaluations = 100.0
    private var probes: [String: Double] = [:]

    /// Seconds per HR pixel of one network evaluation of `config`'s model.
    func secondsPerPixel(_ config: TrainingConfig) -> Double {
        let key = "\(config.model)|\(config.data.scale)"
        if let known = probes[key] { return known }
        let model = config.makeModel(seed: 0)
        model.setTraining(false)
        let side = 64, scale = config.data.scale
        var rng = RandomGenerator(seed: 0)
        let lr = Tensor.randomUniform([1, 3, max(1, side / scale), max(1, side / scale)], using: &rng)
        let x = Tensor.randomNormal([1, 3, side, side], using: &rng)
        var best = Double.infinity
        for _ in 0..<2 {
            let started = DispatchTime.now().uptimeNanoseconds
            withoutDerivatives {
                let features = model.rrdb(lr)
                _ = model.noiseEstimate(xt: x, time: 150, lrFeatures: features)
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
        }
        let perPixel = best / Double(side * side)
        probes[key] = perPixel
        return perPixel
    }

    static func evaluations(_ solver: String) -> Double {
        if solver == "bicubic" { return 0 }
        guard let sampler = try? Sampler.parse(solver) else { return assumedAdaptiveEvaluations }
        return sampler.fixedEvaluations.map(Double.init) ?? assumedAdaptiveEvaluations
    }

    /// The HR pixels of each image an eval or search reads; nil when the folder is missing.
    static func imagePixels(_ step: PlannedStep, plan: [PlannedStep], folder reference: String) -> [Double]? {
        if reference.hasPrefix("@"), let id = step.dependencyIDs[String(reference.dropFirst())],
           let d = plan.first(where: { $0.id == id }), d.spec.kind == .patches {
            return Array(repeating: Double(d.spec.size! * d.spec.size!), count: d.spec.count!)
        }
        guard let paths = try? ImageFolder.list(reference) else { return nil }
        return paths.compactMap { try? PNG.size($0) }.map { Double($0.height * $0.width) }
    }

    /// The estimated seconds of a step not yet done (what remains of a started training); nil
    /// when it depends on data that is not there.
    func estimate(_ step: PlannedStep, plan: [PlannedStep]) -> Double? {
        guard !step.isDone else { return 0 }
        if step.spec.kind == .patches { return 1 }
        guard let config = step.modelConfig else { return step.spec.kind == .model ? 0 : nil }
        let perPixel = secondsPerPixel(config)
        let s = step.spec
        switch s.kind {
        case .model, .patches:
            return s.kind == .patches ? 1 : 0
        case .train, .finetune:
            let total = s.steps ?? config.schedule.steps
            let remaining = Double(max(0, total - Self.stepsDone(step)))
            let batchPixels = Double(config.data.batch * config.data.hrCrop * config.data.hrCrop)
            if s.kind == .train { return remaining * 3 * batchPixels * perPixel }
            let forward = (config.finetune?.rtol ?? 1e-3) >= 1e-2 ? 100.0 : 240.0
            return remaining * (forward + 3 * 50) * batchPixels * perPixel
        case .search:
            let size = Double(s.size! * s.size!)
            guard let r = s.allReferences ? Self.imagePixels(step, plan: plan, folder: s.reference!).map({ Double($0.count) })
                                          : Double(s.references!) else { return nil }
            return Double(s.candidates!) * r * Self.evaluations(s.solver!) * size * perPixel
        case .eval:
            guard var pixels = Self.imagePixels(step, plan: plan, folder: s.hr!) else { return nil }
            if let limit = s.limit { pixels = Array(pixels.prefix(limit)) }
            let runs = s.startingNoise == nil ? Double(s.temperatures.count * s.seeds.count) : Double(s.seeds.count)
            let evaluations = s.solvers.map(Self.evaluations).reduce(0, +)
            return pixels.reduce(0, +) * runs * evaluations * perPixel
        }
    }

    /// Steps a started run has logged (its metrics.jsonl's last "step"), 0 before it starts.
    static func stepsDone(_ step: PlannedStep) -> Int {
        let log = (step.runFolder as NSString).appendingPathComponent("metrics.jsonl")
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n").reversed() {
            if let data = line.data(using: .utf8),
               let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
               let step = object["step"] as? Int { return step }
        }
        return 0
    }
}
