// The training loop (docs/design.md §6): Adam with the RRDB group at its own learning rate,
// warmup + step decay, gradient value clipping, EMA; periodic validation loss, sample
// grids and checkpoints; exact resume from `RUN/checkpoint.h5`.
import AtomicFile
import Checkpoints
import Distributed
import ECDP
import Evaluation
import Foundation
import Grad
import GradNN
import Imaging
import ProjectFiles

/// What the trainer reports while it runs.
public enum TrainerEvent {
    case step(step: Int, epoch: Int, loss: Float, learningRate: Float)
    case validation(step: Int, loss: Double, quality: ImageMetrics)
    case sampleGrid(step: Int, path: String)
    case checkpoint(step: Int, path: String)
    /// A fine-tuning step's terms (reported before its `.step`).
    case finetuneStep(FinetuneStepReport)
}

/// One fine-tuning step: each term's unweighted value (nil when its weight is 0), the
/// network evaluations of the forward and adjoint solves (summed over terms), the time.
public struct FinetuneStepReport: Sendable {
    public var features: Float?
    public var pixel: Float?
    public var scoreMatching: Float?
    public var forwardEvaluations = 0
    public var adjointEvaluations = 0
    public var seconds = 0.0
    /// "random features (vgg19 layout)" or "vgg19 features".
    public var featureLabel: String
}

extension TrainingConfig.Finetune {
    /// The step's total loss: Σ weight × term.
    func weightedLoss(_ r: FinetuneStepReport) -> Float {
        Float(iqWeight) * (r.features ?? 0) + Float(pixelWeight) * (r.pixel ?? 0) + Float(scoreMatchingWeight) * (r.scoreMatching ?? 0)
    }
}

/// How a call to `train` ended.
public enum TrainingOutcome: Equatable {
    case finished(step: Int)
    case interrupted(step: Int)
}

public struct TrainingFailure: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

public final class Trainer {
    public let config: TrainingConfig
    public let runDirectory: String
    public let model: ECDPModel
    public let adam: Adam
    public let ema: ExponentialMovingAverage
    public private(set) var progress: TrainingProgress
    public internal(set) var noise: RandomGenerator
    public let sampleLatent: Tensor
    /// The fine-tune's parent, "PATH sha256:HEX"; nil for training from scratch.
    public let parent: String?
    /// The run folder's lock, held from start/resume until `train` returns (by rank 0).
    private var lock: RunLock?
    /// The processes of a data-parallel run (one, unless launched by mpirun); rank 0 alone
    /// writes the run folder.
    public let communicator: Communicator
    /// Seconds spent summing gradients over the processes since the last log line.
    var communicationSeconds = 0.0
    let batches: TrainingBatches
    let store: CheckpointStore
    let log: RunLog
    /// The validation crops, decoded on first use; a missing or unreadable validation
    /// folder is an error at that point, not a silently skipped validation.
    private var validationCache: [(name: String, hr: Tensor, lr: Tensor)]?

    /// Starts a new run in `runDirectory` (created; refused if it already holds a
    /// checkpoint), optionally from given weights (fine-tuning starts from a parent's EMA).
    /// `parent` names where `initialWeights` came from ("PATH sha256:HEX"); checkpoints keep it.
    public static func start(config: TrainingConfig, runDirectory: String, initialWeights: [String: Tensor]? = nil,
                             parent: String? = nil, communicator: Communicator = SingleProcess()) throws -> Trainer {
        let fm = FileManager.default
        _ = try config.trainingDataset()  // a config without usable data leaves no run folder behind
        if let problem = config.finetuneProblem { throw TrainingFailure(message: "\(config.name): \(problem)") }
        guard communicator.isRoot else {
            // The other processes build the same model from the same seed and write nothing.
            return try Trainer(config: try resolvingSigma(config), runDirectory: runDirectory, state: nil, initialWeights: initialWeights,
                               parent: parent, communicator: communicator)
        }
        try Folders.create(runDirectory)
        let lock = try RunLock(runDirectory: runDirectory)
        AtomicFile.removeOrphans(in: runDirectory)
        // Checked under the lock, so two starts cannot both pass it.
        if fm.fileExists(atPath: (runDirectory as NSString).appendingPathComponent("checkpoint.h5")) {
            throw TrainingFailure(message: "\(runDirectory) already holds a run; continue it with `ecdp resume \(runDirectory)` or choose another --run")
        }
        let resolved = try resolvingSigma(config)
        try resolved.yaml.write(toFile: (runDirectory as NSString).appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        let trainer = try Trainer(config: resolved, runDirectory: runDirectory, state: nil, initialWeights: initialWeights, parent: parent,
                                  communicator: communicator)
        trainer.lock = lock
        return trainer
    }

    /// `config` with `sigma: auto` estimated from its training set.
    static func resolvingSigma(_ config: TrainingConfig) throws -> TrainingConfig {
        var resolved = config
        if resolved.sigma == nil {
            // The Float's shortest decimal form: the saved YAML reads "0.1873", and reads back to the same Float.
            resolved.sigma = Double("\(try Trainer.estimateSigma(config))")
        }
        return resolved
    }

    /// Continues the run in `runDirectory` from its latest checkpoint.
    public static func resume(runDirectory: String, communicator: Communicator = SingleProcess()) throws -> Trainer {
        let store = CheckpointStore(directory: runDirectory)
        guard FileManager.default.fileExists(atPath: store.latestPath) else {
            throw TrainingFailure(message: "\(runDirectory): no checkpoint.h5 to resume from")
        }
        let lock = communicator.isRoot ? try RunLock(runDirectory: runDirectory) : nil
        if communicator.isRoot { AtomicFile.removeOrphans(in: runDirectory) }  // temporaries of a write that was killed
        let state = try store.loadLatest()
        let config = try TrainingConfig.parse(state.configYAML, source: "\(store.latestPath) (saved config)")
        let trainer = try Trainer(config: config, runDirectory: runDirectory, state: state, communicator: communicator)
        trainer.lock = lock
        return trainer
    }

    init(config: TrainingConfig, runDirectory: String, state: TrainingState?, initialWeights: [String: Tensor]? = nil,
         parent: String? = nil, communicator: Communicator = SingleProcess()) throws {
        self.config = config
        self.communicator = communicator
        self.parent = state?.parent ?? parent
        self.runDirectory = runDirectory
        guard let sigma = config.sigma else { throw TrainingFailure(message: "sigma is unresolved") }
        model = config.makeModel(sigma: Float(sigma))
        batches = try config.trainingBatches()
        if config.data.validation == nil, config.schedule.validateEvery > 0 || config.schedule.sampleEvery > 0 {
            throw TrainingFailure(message: Self.missingValidation(config))
        }
        let params = model.parameters()
        adam = Adam(groups: [
            ParameterGroup(name: "unet", parameters: params.filter { $0.path.hasPrefix("unet.") }, learningRate: Float(config.optimizer.lr)),
            ParameterGroup(name: "rrdb", parameters: params.filter { $0.path.hasPrefix("rrdb.") }, learningRate: Float(config.optimizer.rrdbLR)),
        ])
        store = CheckpointStore(directory: runDirectory, keepEvery: config.schedule.keepEvery > 0 ? config.schedule.keepEvery : nil)
        log = RunLog(directory: runDirectory)
        if let state {
            try model.load(state.model)
            adam.state = state.optimizer
            ema = ExponentialMovingAverage(averages: state.ema, decay: 1 - 1 / Float(config.optimizer.emaHorizon))
            progress = state.progress
            guard progress.stepInEpoch < batches.batchesPerEpoch else {
                throw TrainingFailure(message: "\(store.latestPath): step \(progress.stepInEpoch) within its epoch, but an epoch of this data has \(batches.batchesPerEpoch) steps; the checkpoint does not belong to this data")
            }
            guard let words = state.rngStates["noise"] else { throw TrainingFailure(message: "checkpoint lacks rng/noise") }
            noise = RandomGenerator(stateWords: words)
            guard let latent = state.sampleLatent else { throw TrainingFailure(message: "checkpoint lacks sample_latent") }
            sampleLatent = latent
            if communicator.isRoot { try log.truncate(after: progress.step) }
        } else {
            if let path = config.rrdbInit { try Trainer.loadPretrainedEncoder(path, into: model) }
            if let initialWeights { try model.load(initialWeights) }
            ema = ExponentialMovingAverage(parameters: params, horizon: Float(config.optimizer.emaHorizon))
            progress = TrainingProgress()
            var rng = RandomGenerator(seed: config.seed &+ 0x5EED)
            sampleLatent = Tensor.randomNormal([config.sampling.gridImages, 3, config.sampling.validationCrop, config.sampling.validationCrop], using: &rng)
            noise = rng.split()
        }
    }

    static func missingValidation(_ config: TrainingConfig) -> String {
        "\(config.name): data.validation names no folder, but schedule.validate_every / sample_every use it "
            + "(set --set data.validation=DIR, or set both to 0)"
    }

    /// Copies `rrdb.*` weights from a `pretrain-rrdb` export into the model's encoder.
    static func loadPretrainedEncoder(_ path: String, into model: ECDPModel) throws {
        let archive = try CheckpointFormat.read(path)
        var weights: [String: Tensor] = [:]
        for (name, t) in archive.tensors where name.hasPrefix("rrdb.") { weights[String(name.dropFirst(5))] = t.floatTensor() }
        do { try model.rrdb.load(weights) } catch {
            throw TrainingFailure(message: "\(path): pretrained encoder does not fit this config: \(error)")
        }
    }

    /// σ = the standard deviation of HR − μ(LR) over the training images (`sigma: auto`).
    public static func estimateSigma(_ config: TrainingConfig) throws -> Float {
        let data = try config.trainingDataset()
        var sum = 0.0, sumSquares = 0.0, count = 0
        for i in 0..<data.count {
            let hr = try data.hr(i), lr = try data.lr(i)
            let mu = lr.reshaped([1] + lr.shape).resized(height: hr.shape[1], width: hr.shape[2], mode: .bicubic)
            for v in (hr.reshaped([1] + hr.shape) - mu).scalars { sum += Double(v); sumSquares += Double(v) * Double(v); count += 1 }
        }
        let mean = sum / Double(count)
        return Float((sumSquares / Double(count) - mean * mean).squareRoot())
    }

    /// The training state as saved in checkpoints.
    public var state: TrainingState {
        TrainingState(model: model.stateDict(), ema: ema.averages, optimizer: adam.state, progress: progress,
                      rngStates: ["noise": noise.stateWords], sampleLatent: sampleLatent, configYAML: config.yaml, parent: parent)
    }

    /// Saves the training state (rank 0 only: every process holds the same one).
    public func saveCheckpoint() throws -> String {
        if communicator.isRoot { try store.save(state) }
        return store.latestPath
    }

    /// Trains until the step counter reaches `steps` (a total, not an increment), or
    /// `shouldStop()` turns true (then a checkpoint is saved and `.interrupted` returned).
    /// A non-finite loss stops training with an error naming the step; the last good
    /// checkpoint is left as it was.
    public func train(until steps: Int, shouldStop: () -> Bool = { false },
                      report: (TrainerEvent) -> Void = { _ in }) throws -> TrainingOutcome {
        guard progress.step < steps else { return .finished(step: progress.step) }
        if lock == nil, communicator.isRoot { lock = try RunLock(runDirectory: runDirectory) }
        if communicator.size > 1, config.finetune != nil, config.data.batch % communicator.size != 0 {
            throw TrainingFailure(message: "data.batch \(config.data.batch) is not divisible by the \(communicator.size) processes of this run")
        }
        defer { lock?.release(); lock = nil }
        let loader = BatchPrefetcher(batches, startEpoch: progress.epoch, step: progress.stepInEpoch)
        defer { loader.stop() }
        let params = model.parameters().map(\.parameter)
        let schedule = WarmupStepSchedule(warmupSteps: config.optimizer.warmupSteps, milestones: config.optimizer.milestones,
                                          decay: Float(config.optimizer.decay))
        let started = Date()
        while progress.step < steps {
            if try anyShouldStop(shouldStop()) {
                report(.checkpoint(step: progress.step, path: try saveCheckpoint()))
                return .interrupted(step: progress.step)
            }
            let batch = try loader.next()
            precondition(batch.epoch == progress.epoch && batch.step == progress.stepInEpoch, "data loader out of step")
            adam.zeroGradients()
            let loss: Float
            try injectedFault(step: progress.step + 1)
            if let finetune = config.finetune {
                let stepStarted = Date()
                var terms = communicator.size > 1 ? try dataParallelFinetuneGradients(batch, finetune, parameters: params)
                                                  : try finetuneGradients(batch, finetune)
                terms.seconds = Date().timeIntervalSince(stepStarted)
                loss = finetune.weightedLoss(terms)
                lastFinetuneStep = terms
                report(.finetuneStep(terms))
            } else if communicator.size > 1 || config.optimizer.accumulate > 1 {
                loss = try dataParallelGradients(batch, parameters: params)
            } else {
                loss = accumulateGradients(of: params) { model.loss(hr: batch.hr, lr: batch.lr, using: &noise) }.item
            }
            guard loss.isFinite else {
                let last = FileManager.default.fileExists(atPath: store.latestPath)
                    ? "the last good checkpoint is \(store.latestPath)" : "no checkpoint had been saved yet"
                throw TrainingFailure(message: "loss became \(loss) at step \(progress.step + 1) (epoch \(progress.epoch)); stopped without saving — \(last)")
            }
            clipGradientValues(params, limit: Float(config.optimizer.clipValue))
            let factor = schedule.factor(step: progress.step, epoch: progress.epoch)
            adam.step(learningRateFactor: factor)
            ema.update(from: model.parameters())
            progress.step += 1
            progress.stepInEpoch += 1
            if progress.stepInEpoch == batches.batchesPerEpoch { progress.epoch += 1; progress.stepInEpoch = 0 }
            report(.step(step: progress.step, epoch: progress.epoch, loss: loss, learningRate: Float(config.optimizer.lr) * factor))
            if communicator.size > 1, progress.step % config.schedule.logEvery == 0 || progress.step == steps {
                try checkWeightsAgree(step: progress.step)
            }
            if progress.step % config.schedule.logEvery == 0, communicator.isRoot {
                var entry: [String: Any] = ["step": progress.step, "epoch": progress.epoch, "loss": decimal(loss),
                                            "lr": decimal(Float(config.optimizer.lr) * factor), "seconds": Date().timeIntervalSince(started)]
                if communicator.size > 1 {
                    entry["processes"] = communicator.size
                    entry["allreduce_seconds"] = communicationSeconds
                    communicationSeconds = 0
                }
                if config.finetune != nil, let terms = lastFinetuneStep {
                    if let v = terms.features { entry["features_loss"] = decimal(v); entry["features"] = terms.featureLabel }
                    if let v = terms.pixel { entry["pixel_loss"] = decimal(v) }
                    if let v = terms.scoreMatching { entry["score_matching_loss"] = decimal(v) }
                    entry["nfe_forward"] = terms.forwardEvaluations
                    entry["nfe_adjoint"] = terms.adjointEvaluations
                    entry["step_seconds"] = terms.seconds
                }
                try log.append(entry)
            }
            let last = progress.step == steps
            if config.schedule.validateEvery > 0, progress.step % config.schedule.validateEvery == 0 || last, communicator.isRoot {
                let v = try validationLoss()
                let q = try validationQuality()
                try log.append(["step": progress.step, "validation_loss": v, "val_psnr": q.psnr, "val_ssim": q.ssim,
                                "val_lr_psnr": q.lrPSNR.map { $0 as Any } ?? NSNull(), "val_lpips": q.lpips.map { $0 as Any } ?? NSNull(),
                                "val_lpips_net": q.lpipsNetwork.map { $0.rawValue as Any } ?? NSNull(),
                                "val_protocol": q.protocolName, "val_solver": config.sampling.validationSolver,
                                "val_temperature": config.sampling.validationTemperature])
                // Validation before the EMA horizon mostly measures the initial weights.
                try log.drawLossCurve(title: "\(config.name): loss per sample (Σ over pixels, ε + x0 terms)",
                                      validationFrom: min(Int(config.optimizer.emaHorizon), progress.step))
                report(.validation(step: progress.step, loss: v, quality: q))
            }
            if config.schedule.sampleEvery > 0, progress.step % config.schedule.sampleEvery == 0 || last, communicator.isRoot {
                report(.sampleGrid(step: progress.step, path: try writeSampleGrid()))
            }
            if progress.step % config.schedule.checkpointEvery == 0 || last {
                report(.checkpoint(step: progress.step, path: try saveCheckpoint()))
            }
        }
        return .finished(step: progress.step)
    }

    /// The feature network of the feature term (built and loaded on first use).
    private var featureNetwork: PerceptualFeatures?
    /// The last fine-tuning step's terms (for the log).
    private var lastFinetuneStep: FinetuneStepReport?

    func features(_ finetune: TrainingConfig.Finetune) throws -> PerceptualFeatures {
        if let featureNetwork { return featureNetwork }
        let architecture = PerceptualFeatures.Architecture(rawValue: finetune.features.rawValue)!
        let net = PerceptualFeatures(architecture, widthDivisor: finetune.vggWidthDivisor, seed: config.seed)
        if let path = finetune.featureWeights {
            let archive = try CheckpointFormat.read(path)
            do {
                try net.loadPretrained(Dictionary(archive.tensors.map { ($0.name, $0.tensor.floatTensor()) }, uniquingKeysWith: { a, _ in a }))
            } catch {
                throw TrainingFailure(message: "finetune.feature_weights \(path): not torchvision \(architecture.rawValue) weights: \(error)")
            }
        }
        featureNetwork = net
        return net
    }

    /// One fine-tuning step's gradients (docs/design.md §5), added into the parameters'
    /// gradients, in the official order of terms:
    /// - the feature term: x_T = τ_iq·z, the probability-flow ODE by adaptive Dormand–Prince,
    ///   iq_weight · mean over taps of mean |F(μ + σ·x̂0) − F(HR)|;
    /// - the pixel term: x_T = τ_pixel·z (official τ = 0) through the same solve,
    ///   pixel_weight · mean |μ + σ·x̂0 − HR|;
    /// - score_matching_weight × the training loss.
    /// Both sampled terms get their gradients by the adjoint method: the U-Net's directly;
    /// the encoder's through ∂L/∂features only with `encoder_gradients` (the official
    /// adjoint leaves the encoder out). Returns each term's unweighted value.
    ///
    /// With `share` (data-parallel runs), every random draw is made for the whole batch and
    /// the samples of `share` are kept, so the processes' shares make up the one-process step.
    func finetuneGradients(_ whole: SRBatch, _ ft: TrainingConfig.Finetune, share: Range<Int>? = nil) throws -> FinetuneStepReport {
        var report = FinetuneStepReport(featureLabel: ft.featureLabel)
        func mine(_ t: Tensor) -> Tensor { share.map { t.samples($0) } ?? t }
        let batch = SRBatch(hr: mine(whole.hr), lr: mine(whole.lr), epoch: whole.epoch, step: whole.step)
        let (h, w) = (batch.hr.shape[2], batch.hr.shape[3])
        let feats = withoutDerivatives { model.rrdb(batch.lr) }
        let mu = withoutDerivatives { model.mean(lr: batch.lr, height: h, width: w) }
        let unetParams = model.unet.parameters().map(\.parameter)
        let rrdbParams = model.rrdb.parameters().map(\.parameter)
        let diffusion = model.diffusion

        /// The adjoint gradient of `loss(image)` for a sample from x_T = temperature·z.
        func sampledTerm(temperature: Double, weight: Double, loss: @escaping (Tensor) -> Tensor) throws -> Float {
            let xT = mine(Tensor.randomNormal(whole.hr.shape, using: &noise)) * Float(temperature)
            var value: Float = 0
            let adjoint = try Adjoint.gradients(
                of: { [model] y, t, c in model.probabilityFlow(x: y, time: t, lrFeatures: c) },
                parameters: unetParams, extra: feats, y0: xT, t0: diffusion.sde.horizon, t1: 0.1,
                solver: DormandPrince(rtol: ft.rtol, atol: ft.atol),
                lossGradient: { y1 in
                    let r = vjp(at: [y1], parameters: [], cotangent: nil) { ins in
                        loss(diffusion.image(residual: ins[0], mean: mu)) * Float(weight)
                    }
                    value = r.value.item
                    return r.inputGradients[0]
                })
            var gradients = adjoint.parameters
            var targets = unetParams
            if ft.encoderGradients {
                gradients += vjp(at: [], parameters: rrdbParams, cotangent: adjoint.extra) { _ in model.rrdb(batch.lr) }.parameterGradients
                targets += rrdbParams
            }
            for (p, g) in zip(targets, gradients) { p.gradient = p.gradient.map { $0 + g } ?? g }
            report.forwardEvaluations += adjoint.forwardEvaluations
            report.adjointEvaluations += adjoint.backwardEvaluations
            return value / Float(weight)
        }

        if ft.scoreMatchingWeight > 0 {
            let weight = Float(ft.scoreMatchingWeight)
            let params = model.parameters().map(\.parameter)
            // Times and noise drawn for the whole batch, in ECDPModel.loss(hr:lr:using:)'s order.
            let times = model.diffusion.sampleTimes(count: whole.hr.shape[0], using: &noise)
            let eps = Tensor.randomNormal(whole.hr.shape, using: &noise)
            let myTimes = share.map { Array(times[$0]) } ?? times
            report.scoreMatching = accumulateGradients(of: params) {
                model.loss(hr: batch.hr, lr: batch.lr, times: myTimes, noise: mine(eps)) * weight
            }.item / weight
        }
        if ft.iqWeight > 0 {
            let imageQuality = ImageQualityLoss(features: try features(ft), weight: 1)
            let target = imageQuality.target(batch.hr)
            report.features = try sampledTerm(temperature: ft.iqTemperature, weight: ft.iqWeight) { imageQuality($0, target: target) }
        }
        if ft.pixelWeight > 0 {
            let hr = batch.hr
            report.pixel = try sampledTerm(temperature: ft.pixelTemperature, weight: ft.pixelWeight) { l1Loss($0, hr) }
        }
        return report
    }

    private var validationLPIPSCache: LPIPS?
    private var warnedAboutLPIPS = false

    func validationSet() throws -> [(name: String, hr: Tensor, lr: Tensor)] {
        if let validationCache { return validationCache }
        guard let folder = config.data.validation else { throw TrainingFailure(message: Self.missingValidation(config)) }
        let data = try SRDataset(hrFolder: ProjectFiles.resolve(folder), lrFolder: config.data.validationLR.map { ProjectFiles.resolve($0) },
                                 scale: config.data.scale)
        let pairs = try data.validationPairs(cropSize: config.sampling.validationCrop)
        validationCache = pairs
        return pairs
    }

    /// Mean loss of the EMA model over the validation crops with a fixed noise seed, so
    /// successive values are comparable.
    public func validationLoss() throws -> Double {
        let validation = try validationSet()
        let emaModel = try emaCopy()
        var rng = RandomGenerator(seed: config.seed &+ 0xBA1)
        return withoutDerivatives {
            let losses = validation.map { pair in Double(emaModel.loss(hr: pair.hr, lr: pair.lr, using: &rng).item) }
            return losses.reduce(0, +) / Double(losses.count)
        }
    }

    /// PSNR, SSIM and LR-PSNR (ECDP protocol; LPIPS when `sampling.validation_lpips` names a
    /// network whose backbone is found) of EMA samples of the validation crops, with
    /// `sampling.validation_solver` from x_T = τ·z, z fixed by the seed — the quality curve
    /// beside the loss. Uses its own random generator: training is unaffected.
    public func validationQuality() throws -> ImageMetrics {
        let validation = try validationSet()
        let emaModel = try emaCopy()
        let sampler = try Sampler.parse(config.sampling.validationSolver)
        let tau = Float(config.sampling.validationTemperature)
        var rng = RandomGenerator(seed: config.seed &+ 0x5A3)
        let rows = try validation.map { pair -> ImageMetrics in
            let z = Tensor.randomNormal(pair.hr.shape, using: &rng)
            var sampling = RandomGenerator(seed: config.seed &+ 0x5A4)
            let (sr, _) = try emaModel.superResolve(pair.lr, startingNoise: z * tau, sampler: sampler, using: &sampling)
            func image(_ t: Tensor) -> Tensor { t.reshaped(Array(t.shape.dropFirst())) }
            return try MetricProtocol.ecdp.evaluate(output: image(sr), reference: image(pair.hr), lr: image(pair.lr),
                                                    scale: config.data.scale, lpips: try validationLPIPS())
        }
        return FolderEvaluation.mean(rows, protocolName: MetricProtocol.ecdp.name)
    }

    /// The LPIPS of the validation metrics, loaded once; nil when none is configured or its
    /// backbone is nowhere (said once on stderr).
    func validationLPIPS() throws -> LPIPS? {
        if let validationLPIPSCache { return validationLPIPSCache }
        guard let name = config.sampling.validationLPIPS, let network = LPIPSNetwork(rawValue: name) else { return nil }
        guard try config.sampling.lpipsBackbone != nil || LPIPSWeights.backbonePath(network, explicit: nil) != nil else {
            if !warnedAboutLPIPS {
                warnedAboutLPIPS = true
                FileHandle.standardError.write(Data("validation LPIPS: null — no \(network) backbone (set sampling.lpips_backbone or put \(network.torchvisionFileName) in \(LPIPSWeights.torchvisionCache()))\n".utf8))
            }
            return nil
        }
        let metric = try LPIPSWeights.load(network, backbone: config.sampling.lpipsBackbone)
        validationLPIPSCache = metric
        return metric
    }

    /// A model holding the EMA weights.
    public func emaCopy() throws -> ECDPModel {
        let m = config.makeModel(sigma: model.diffusion.sigma)
        try m.load(ema.averages)
        return m
    }

    /// `samples/step<N>.png`: per validation image a row of bicubic(LR), samples at
    /// temperatures 0, 0.9 and 1 from the fixed latent (EMA weights, DPM-Solver-3 with
    /// `grid_steps` steps), and the HR crop.
    public func writeSampleGrid() throws -> String {
        let emaModel = try emaCopy()
        let rows = Array(try validationSet().prefix(config.sampling.gridImages))
        var rowImages: [Tensor] = []
        for (i, pair) in rows.enumerated() {
            let latent = sampleLatent.slice(start: [i, 0, 0, 0], size: [1] + Array(sampleLatent.shape.dropFirst()))
            var cells = [emaModel.bicubicBaseline(pair.lr, height: pair.hr.shape[2], width: pair.hr.shape[3])]
            var rng = RandomGenerator(seed: config.seed)
            for tau: Float in [0, 0.9, 1] {
                cells.append(try emaModel.superResolve(pair.lr, startingNoise: latent * tau,
                                                       sampler: .dpmSolver(order: 3, steps: config.sampling.gridSteps), using: &rng).image)
            }
            cells.append(pair.hr)
            rowImages.append(Tensor.concatenate(cells, axis: 3))
        }
        let grid = Tensor.concatenate(rowImages, axis: 2)
        let dir = (runDirectory as NSString).appendingPathComponent("samples")
        try Folders.create(dir)
        let path = (dir as NSString).appendingPathComponent(String(format: "step%07d.png", progress.step))
        try PNG.write(grid, to: path)
        // The same grid with a caption on every panel, for people (the PNG is for programs).
        let captions = ["bicubic (μ(y))", "τ = 0", "τ = 0.9", "τ = 1", "HR"]
        let side = grid.shape[3] / captions.count
        let labelled = (0..<rows.count).map { r in
            captions.enumerated().map { c, caption in
                (grid.slice(start: [0, 0, r * side, c * side], size: [1, 3, side, side]).reshaped([3, side, side]), caption)
            }
        }
        let svg = try CaptionedSheet.svg(title: "\(config.name), step \(progress.step): EMA samples (DPM-Solver-3, \(config.sampling.gridSteps) steps) "
                                            + "from the fixed latent", rows: labelled, cellWidth: max(128, side * 2))
        try svg.write(toFile: (path as NSString).deletingPathExtension + ".svg", atomically: true, encoding: .utf8)
        return path
    }
}

/// A Float as the Double of its shortest decimal form, so logs read 0.0002, not
/// 0.00019999999494757503 (the Float's exact binary value).
func decimal(_ x: Float) -> Double { Double("\(x)") ?? Double(x) }
