// Running one step of a plan, through the same library calls as the commands it stands for
// (`ecdp train`, `finetune`, `prepare --kind patches`, `find-bc`, `eval`), each resumable by
// itself: a training continues from its last checkpoint, a search from its score matrix, an
// evaluation from its per-image rows. A step that ends writes `done.json` (its identity,
// summary and wall time); only then is it finished.
import AtomicFile
import Checkpoints
import ECDP
import Evaluation
import Foundation
import Grad
import GradKernels
import Training

/// How a table run reports what it does (the command line draws progress bars).
public protocol TableRunObserver: AnyObject {
    /// A step starts; `remaining` is the estimated seconds of the whole plan still to run.
    func stepStarted(_ step: PlannedStep, index: Int, count: Int, remaining: Double)
    /// Progress inside the step (training steps, images, candidates).
    func stepProgress(done: Int, total: Int, fields: [(String, String)])
    func note(_ text: String)
    func stepFinished(_ step: PlannedStep, seconds: Double)
}

/// Thrown from inside a step when `shouldStop` turns true: what the step has written is
/// kept, and the next run continues from there.
public struct TableRunInterrupted: Error, CustomStringConvertible {
    public var description: String { "interrupted; rerun the same command to continue" }
}

struct StepExecutor {
    let plan: TablePlan
    let observer: TableRunObserver
    let shouldStop: () -> Bool

    /// Runs `step` (continuing what an earlier run left) and writes its `done.json`, with
    /// the seconds of all its runs (`StepClock`).
    func run(_ step: PlannedStep) throws {
        try Folders.create(step.folder)
        let clock = StepClock(folder: step.folder)
        let timed = StepExecutor(plan: plan, observer: observer, shouldStop: { clock.tick(); return shouldStop() })
        do {
            try timed.perform(step)
        } catch {
            clock.save()
            throw error
        }
        let record = StepRecord(digest: step.digest, summary: step.summary, seconds: clock.total,
                                finished: ISO8601DateFormatter().string(from: Date()))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try OutputFile.write(try encoder.encode(record), to: step.donePath)
        observer.stepFinished(step, seconds: record.seconds)
    }

    private func perform(_ step: PlannedStep) throws {
        let s = step.spec
        switch s.kind {
        case .model:
            return
        case .train, .finetune:
            try train(step)
        case .patches:
            let recipe = TestSetRecipe.defaults(.patches, scale: nil, size: s.size, count: s.count, seed: s.seed ?? 0)
            _ = try TestSetPreparation.prepare(recipe, input: try folder(s.subject, hr: true, of: step), output: step.setFolder) { done, total in
                observer.stepProgress(done: done, total: total, fields: [])
            }
        case .search:
            try search(step)
        case .eval:
            try evaluate(step)
        }
    }

    /// The checkpoint a model reference of `step` names: a file, or a train/finetune step's run.
    func checkpoint(_ reference: String, of step: PlannedStep) throws -> String {
        guard reference.hasPrefix("@") else { return reference }
        let d = try plan.dependency(reference, of: step)
        return d.spec.kind == .model ? d.spec.subject : (d.runFolder as NSString).appendingPathComponent("checkpoint.h5")
    }

    func folder(_ reference: String, hr: Bool, of step: PlannedStep) throws -> String {
        guard reference.hasPrefix("@") else { return reference }
        return (try plan.dependency(reference, of: step).setFolder as NSString).appendingPathComponent(hr ? "hr" : "lr")
    }

    func train(_ step: PlannedStep) throws {
        let s = step.spec
        let config = step.modelConfig!
        let steps = s.steps ?? config.schedule.steps
        let checkpointPath = (step.runFolder as NSString).appendingPathComponent("checkpoint.h5")
        let trainer: Trainer
        if FileManager.default.fileExists(atPath: checkpointPath) {
            trainer = try Trainer.resume(runDirectory: step.runFolder)
            observer.note("resuming \(step.runFolder) at step \(trainer.progress.step) of \(steps)")
        } else if s.kind == .finetune {
            trainer = try Trainer.startFinetune(config: config, parent: try checkpoint(s.from!, of: step), runDirectory: step.runFolder)
        } else {
            trainer = try Trainer.start(config: config, runDirectory: step.runFolder)
        }
        let outcome = try trainer.train(until: steps, shouldStop: shouldStop) { event in
            if case let .step(n, _, loss, _) = event {
                observer.stepProgress(done: n, total: steps, fields: [("loss", String(format: "%.4g", loss))])
            }
        }
        if case .interrupted = outcome { throw TableRunInterrupted() }
    }

    func search(_ step: PlannedStep) throws {
        let s = step.spec
        let modelPath = try checkpoint(s.subject, of: step)
        let (model, config) = try InferenceModel.load(checkpoint: modelPath, overrides: s.overrides)
        let metric = BoundaryConditionMetric(rawValue: s.metric!)!
        let lpips = metric == .lpips ? try LPIPSWeights.load(LPIPSNetwork(rawValue: s.lpips ?? "alex")!, backbone: s.lpipsBackbone) : nil
        let hr = try folder(s.reference!, hr: true, of: step)
        let lr = try s.lr.map { try folder($0, hr: false, of: step) }
        let references = s.allReferences
            ? try BoundaryConditionSearch.allReferences(size: s.size!, scale: config.data.scale, hrFolder: hr, lrFolder: lr)
            : try BoundaryConditionSearch.drawReferences(count: s.references!, size: s.size!, scale: config.data.scale, seed: s.seed ?? 0,
                                                         hrFolder: hr, lrFolder: lr)
        let search = try BoundaryConditionSearch(model: model, modelSHA256: try sha256(ofFile: modelPath), solver: s.solver!, metric: metric,
                                                 lpips: lpips, candidates: s.candidates!, size: s.size!, seed: s.seed ?? 0,
                                                 references: references, scale: config.data.scale)
        _ = try search.run(out: step.artifact) { done, total in
            observer.stepProgress(done: done, total: total, fields: [])
            if shouldStop() { throw TableRunInterrupted() }
        }
    }

    func evaluate(_ step: PlannedStep) throws {
        let s = step.spec
        let modelPath = try checkpoint(s.subject, of: step)
        let (model, config) = try InferenceModel.load(checkpoint: modelPath, overrides: s.overrides)
        let modelSHA256 = try sha256(ofFile: modelPath)
        let lpips = try s.lpips.map { try LPIPSWeights.load(LPIPSNetwork(rawValue: $0)!, backbone: s.lpipsBackbone) }
        var startingNoise: (file: String, tensor: Tensor)?
        if let x = s.startingNoise {
            let artifact = try plan.dependency(x, of: step).artifact
            startingNoise = (artifact, try StartingNoiseFile.load(artifact, checkpointSHA256: modelSHA256, solvers: s.solvers,
                                                                  warn: { observer.note("warning: \($0)") }))
        }
        let settings = EvaluationSettings(
            checkpointName: (modelPath as NSString).lastPathComponent, checkpointSHA256: modelSHA256, parameters: model.parameterCount,
            protocolName: s.protocolName!, scale: config.data.scale, lpipsNetwork: lpips?.network.rawValue, solvers: s.solvers,
            temperatures: s.startingNoise == nil ? s.temperatures : [1], seeds: s.seeds,
            startingNoise: startingNoise.map { ($0.file as NSString).lastPathComponent },
            startingNoisePolicy: startingNoise.map { _ in StartingNoisePolicy.tiled.rawValue }, limit: s.limit)
        let run = try EvaluationRun(model: model, settings: settings, hrFolder: try folder(s.hr!, hr: true, of: step),
                                    lrFolder: try s.lr.map { try folder($0, hr: false, of: step) }, directory: step.evalFolder, lpips: lpips,
                                    startingNoise: startingNoise?.tensor)
        _ = try run.run(machine: .current(threads: Parallel.maxThreads)) { done, total, note in
            observer.stepProgress(done: done, total: total, fields: [])
            if !note.isEmpty { observer.note(note) }
            if shouldStop() { throw TableRunInterrupted() }
        }
    }
}
