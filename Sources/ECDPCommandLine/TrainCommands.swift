// `ecdp train`, `ecdp resume` and `ecdp info`.
import ArgumentParser
import Dispatch
import Distributed
import ECDP
import Evaluation
import Foundation
import Grad
import Synchronization
import Training

/// Ctrl-C (SIGINT) and SIGTERM ask the trainer to save a checkpoint and stop cleanly; a
/// second Ctrl-C exits at once.
final class InterruptFlag: Sendable {
    private let raised = Atomic<Bool>(false)
    /// The signal that raised the flag (SIGINT or SIGTERM), 0 before one arrives.
    private let signalNumber = Atomic<Int32>(0)
    private let sources: UncheckedBox<[DispatchSourceSignal]>

    init() {
        var list: [DispatchSourceSignal] = []
        sources = UncheckedBox([])
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                if self.raised.load(ordering: .relaxed) { exit(128 + sig) }
                self.signalNumber.store(sig, ordering: .relaxed)
                self.raised.store(true, ordering: .relaxed)
                FileHandle.standardError.write(Data("\ninterrupted: saving a checkpoint (Ctrl-C again to quit now)\n".utf8))
            }
            source.resume()
            list.append(source)
        }
        sources.value = list
    }

    var isRaised: Bool { raised.load(ordering: .relaxed) }

    /// The shell's exit status for a process stopped by the signal: 130 for Ctrl-C, 143 for
    /// SIGTERM — a script must see that the work did not finish, even though it was saved.
    var exitCode: ExitCode { ExitCode(128 + signalNumber.load(ordering: .relaxed)) }
}

final class UncheckedBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}

/// The processes of this run: Open MPI's when launched by `mpirun`, else this one.
func launchCommunicator() throws -> Communicator {
    guard MPICommunicator.isLaunchedByMPI else { return SingleProcess() }
    let communicator = try MPICommunicator()
    if communicator.isRoot { print("data-parallel over \(communicator.size) processes (Open MPI)") }
    return communicator
}

/// Runs `body`; under MPI, a failure on any process prints its message with the rank and
/// stops every process (exit code 1), so no process waits forever for a dead one.
func stoppingAllOnFailure(_ communicator: Communicator, _ body: () throws -> Void) throws {
    do { try body() } catch {
        guard communicator.size > 1, !(error is ExitCode) else { throw error }
        FileHandle.standardError.write(Data("Error (process \(communicator.rank) of \(communicator.size)): \(error)\n".utf8))
        communicator.abort(code: 1)
    }
}

/// Runs a trainer to `steps` with a progress bar (rank 0), and prints what happened.
func runTraining(_ trainer: Trainer, steps: Int) throws {
    let interrupt = InterruptFlag()
    guard trainer.communicator.isRoot else {
        // Other processes train silently; rank 0 reports for the run.
        if case .interrupted = try trainer.train(until: steps, shouldStop: { interrupt.isRaised }) { throw interrupt.exitCode }
        return
    }
    print("run \(trainer.runDirectory): config \(trainer.config.name), \(trainer.model.parameterCount) parameters, σ \(trainer.model.diffusion.sigma), step \(trainer.progress.step) → \(steps)")
    fflush(nil)
    var bar = ProgressBar(total: steps, label: "train", start: trainer.progress.step)
    var lastLoss: Float = .nan
    var finetuneFields: [(String, String)] = []
    let outcome = try trainer.train(until: steps, shouldStop: { interrupt.isRaised }) { event in
        switch event {
        case let .step(step, epoch, loss, lr):
            lastLoss = loss
            bar.update(step, fields: [("loss", String(format: "%.4g", loss))] + finetuneFields
                       + [("lr", String(format: "%.2e", lr)), ("epoch", "\(epoch)")])
        case let .validation(step, loss, q):
            bar.note("step \(step): validation loss \(String(format: "%.3f", loss)), PSNR \(String(format: "%.2f", q.psnr)) dB, "
                + "SSIM \(String(format: "%.4f", q.ssim)), LR-PSNR \(String(format: "%.2f", q.lrPSNR ?? .nan)) dB"
                + (q.lpips.map { ", LPIPS \(String(format: "%.4f", $0))" } ?? "") + " [\(q.protocolName)] (EMA weights)")
        case let .sampleGrid(_, path):
            bar.note("sample grid: \(path)")
        case let .finetuneStep(r):
            var fields: [(String, String)] = []
            if let v = r.features { fields.append((r.featureLabel.hasPrefix("random") ? "random-features" : "features", String(format: "%.4g", v))) }
            if let v = r.pixel { fields.append(("pixel", String(format: "%.4g", v))) }
            if let v = r.scoreMatching { fields.append(("score", String(format: "%.4g", v))) }
            fields += [("nfe", "\(r.forwardEvaluations)+\(r.adjointEvaluations)"), ("s/step", String(format: "%.1f", r.seconds))]
            finetuneFields = fields
        case .checkpoint:
            break
        }
    }
    switch outcome {
    case .finished(let step):
        let checkpoint = (trainer.runDirectory as NSString).appendingPathComponent("checkpoint.h5")
        let saved = FileManager.default.fileExists(atPath: checkpoint) ? "checkpoint \(checkpoint)" : "no checkpoint written"
        if lastLoss.isNaN {
            print("nothing to train: the run is at step \(step), already at --steps \(steps); \(saved)")
        } else {
            print("finished at step \(step) (last loss \(String(format: "%.4g", lastLoss))); \(saved)")
        }
    case .interrupted(let step):
        print("stopped at step \(step); checkpoint saved. Continue with: ecdp resume \(trainer.runDirectory) --steps \(steps)")
        throw interrupt.exitCode
    }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train ECDP from scratch (docs/design.md §2–§3, §6).")

    @Option(help: "Config name (tiny, small, paper-div2k, …) or YAML path.") var config: String
    @Option(name: .customLong("set"), help: "Override a config key, e.g. --set optimizer.lr=2e-4 (repeatable).")
    var overrides: [String] = []
    @Option(name: .customLong("run"), help: "Run folder (checkpoint, metrics, samples, config).") var runFolder: String
    @Option(help: "Stop when the step counter reaches this total (default: schedule.steps).") var steps: Int?
    @Option(help: "Random seed (overrides the config's).") var seed: UInt64?
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        threadOptions.apply()
        var cfg = try TrainingConfig.resolve(config, overrides: overrides)
        if let seed { cfg.seed = seed }
        if cfg.parametrization == .eps, cfg.sampling.validationTemperature == 0, cfg.schedule.validateEvery > 0 {
            print("note: an ε-only model's samples from x_T = 0 are degenerate; its validation metrics at "
                  + "sampling.validation_temperature 0 say little (set it to 1; docs/training.md)")
        }
        let communicator = try launchCommunicator()
        try stoppingAllOnFailure(communicator) {
            let trainer = try Trainer.start(config: cfg, runDirectory: runFolder, communicator: communicator)
            try runTraining(trainer, steps: steps ?? cfg.schedule.steps)
        }
    }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Continue a run exactly where its last checkpoint stopped.")

    @Argument(help: "The run folder.") var runFolder: String
    @Option(help: "Total steps to reach (default: the run's schedule.steps).") var steps: Int?
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        threadOptions.apply()
        let communicator = try launchCommunicator()
        try stoppingAllOnFailure(communicator) {
            let trainer = try Trainer.resume(runDirectory: runFolder, communicator: communicator)
            try runTraining(trainer, steps: steps ?? trainer.config.schedule.steps)
        }
    }
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Parameter counts of a configuration.")

    @Option(help: "Config name or YAML path.") var config: String
    @Flag(help: "One JSON object.") var json = false

    func run() throws {
        let cfg = try TrainingConfig.resolve(config)
        let model = cfg.makeModel()
        var rng = RandomGenerator(seed: 0)
        let rrdbNet = RRDBNet(config: cfg.model, scale: cfg.data.scale, using: &rng)
        let results: [(String, Any)] = [("config", cfg.name), ("params", model.parameterCount),
                                        ("params_unet", model.unet.parameterCount), ("params_rrdb", model.rrdb.parameterCount),
                                        ("params_rrdbnet", rrdbNet.parameterCount)]
        printResults(results, json: json)
    }
}

struct PretrainRRDB: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain-rrdb",
        abstract: "Pretrain the RRDB encoder as RRDBNet with an L1 loss (resumable: run it again on the same --run).",
        discussion: "Writes RUN/rrdb.safetensors; start ECDP training from it with --set model.rrdb_init=RUN/rrdb.safetensors.")

    @Option(help: "Config name or YAML path: model.rrdb (the head reads model.rrdb.selection), data, optimizer and schedule (e.g. paper-div2k-rrdbnet).") var config: String
    @Option(name: .customLong("set"), help: "Override a config key (repeatable).") var overrides: [String] = []
    @Option(name: .customLong("run"), help: "Run folder.") var runFolder: String
    @Option(help: "Total steps to reach (default: the config's schedule.steps).") var steps: Int?
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        threadOptions.apply()
        let cfg = try TrainingConfig.resolve(config, overrides: overrides)
        let steps = self.steps ?? cfg.schedule.steps
        let communicator = try launchCommunicator()
        try stoppingAllOnFailure(communicator) {
            let pretrainer = try RRDBPretrainer(config: cfg, runDirectory: runFolder, communicator: communicator)
            let interrupt = InterruptFlag()
            var bar = ProgressBar(total: steps, label: "rrdb", start: pretrainer.progress.step)
            try pretrainer.train(until: steps, shouldStop: { interrupt.isRaised }) { step, loss in
                if communicator.isRoot { bar.update(step, fields: [("L1", String(format: "%.4f", loss))]) }
            }
            if communicator.isRoot { print("encoder weights: \(pretrainer.encoderWeightsPath) (step \(pretrainer.progress.step))") }
            if interrupt.isRaised && pretrainer.progress.step < steps { throw interrupt.exitCode }
        }
    }
}

struct Finetune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune a trained model on samples of the probability-flow ODE: the pixel term and/or the feature term, gradients by the adjoint method (docs/design.md §5, docs/sampling.md).",
        discussion: "Starts from the parent's EMA weights; resumable with `ecdp resume RUN` like training. The parent's parametrization, γ and σ must equal the config's.")

    @Option(help: "The parent model: RUN/checkpoint.h5 or an exported .safetensors.") var checkpoint: String?
    @Option(name: .customLong("from"), help: ArgumentHelp("Old name of --checkpoint.", visibility: .hidden)) var oldFrom: String?
    @Option(help: "Fine-tuning config (e.g. small-finetune) — it must have a `finetune` section.") var config: String
    @Option(name: .customLong("set"), help: "Override a config key (repeatable).") var overrides: [String] = []
    @Option(name: .customLong("run"), help: "Run folder.") var runFolder: String
    @Option(help: "Total steps to reach (default: schedule.steps).") var steps: Int?
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        guard (checkpoint == nil) != (oldFrom == nil) else { throw ValidationError("give the parent model with --checkpoint") }
        if oldFrom != nil { Deprecation.notice("--from", "--checkpoint", command: "finetune") }
    }

    func run() throws {
        threadOptions.apply()
        let cfg = try TrainingConfig.resolve(config, overrides: overrides)
        guard let ft = cfg.finetune else { throw InputError("\(config) has no `finetune` section; use e.g. --config small-finetune") }
        if ft.iqWeight > 0, ft.featureWeights == nil {
            print("note: no finetune.feature_weights — the feature term uses RANDOM FEATURES (\(ft.features.rawValue) layout, Kaiming-normal); "
                  + "every log line says so. Not a VGG loss: fine for testing the pipeline, not for perceptual results.")
        }
        let communicator = try launchCommunicator()
        try stoppingAllOnFailure(communicator) {
            let trainer = try Trainer.startFinetune(config: cfg, parent: checkpoint ?? oldFrom!, runDirectory: runFolder,
                                                    communicator: communicator)
            try runTraining(trainer, steps: steps ?? cfg.schedule.steps)
        }
    }
}
