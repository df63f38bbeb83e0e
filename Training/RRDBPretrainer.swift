// Pretraining the RRDB encoder as RRDBNet with the official L1 loss (absolute error summed
// over each image, averaged over the batch), Adam with warm-up and step decay at epoch
// milestones, gradient value clipping. Writes `RUN/rrdb.safetensors` (the whole RRDBNet:
// `rrdb.*` is what `model.rrdb_init` reads) and resumable state in `RUN/checkpoint.h5`.
import AtomicFile
import Checkpoints
import Distributed
import ECDP
import Foundation
import Grad
import GradNN

public final class RRDBPretrainer {
    public let config: TrainingConfig
    public let runDirectory: String
    public let net: RRDBNet
    let adam: Adam
    let batches: TrainingBatches
    let store: CheckpointStore
    public private(set) var progress: TrainingProgress
    /// The run folder's lock, held while this pretrainer exists (by rank 0).
    private let lock: RunLock?
    /// The processes of a data-parallel run; rank 0 alone writes the run folder.
    public let communicator: Communicator

    public init(config: TrainingConfig, runDirectory: String, communicator: Communicator = SingleProcess()) throws {
        self.config = config
        self.runDirectory = runDirectory
        self.communicator = communicator
        if communicator.isRoot { try Folders.create(runDirectory) }
        lock = communicator.isRoot ? try RunLock(runDirectory: runDirectory) : nil
        var rng = RandomGenerator(seed: config.seed)
        net = RRDBNet(config: config.model, scale: config.data.scale, using: &rng)
        batches = try config.trainingBatches()
        adam = Adam(groups: [ParameterGroup(name: "rrdbnet", parameters: net.parameters(), learningRate: Float(config.optimizer.lr))])
        store = CheckpointStore(directory: runDirectory)
        progress = TrainingProgress()
        if FileManager.default.fileExists(atPath: store.latestPath) {
            let state = try store.loadLatest()
            try net.load(state.model)
            adam.state = state.optimizer
            progress = state.progress
        } else if communicator.isRoot {
            try config.yaml.write(toFile: (runDirectory as NSString).appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        }
    }

    public var encoderWeightsPath: String { (runDirectory as NSString).appendingPathComponent("rrdb.safetensors") }

    /// Trains to `steps` (a total); reports (step, L1 loss). Saves at the end or when
    /// `shouldStop` turns true.
    public func train(until steps: Int, shouldStop: () -> Bool = { false }, report: (Int, Float) -> Void = { _, _ in }) throws {
        let loader = BatchPrefetcher(batches, startEpoch: progress.epoch, step: progress.stepInEpoch)
        defer { loader.stop() }
        let params = net.parameters().map(\.parameter)
        let schedule = WarmupStepSchedule(warmupSteps: config.optimizer.warmupSteps, milestones: config.optimizer.milestones,
                                          decay: Float(config.optimizer.decay))
        while progress.step < steps {
            if communicator.size == 1 ? shouldStop() : try communicator.maximum([shouldStop() ? 1 : 0])[0] > 0 { break }
            let batch = try loader.next()
            adam.zeroGradients()
            let batchSize = batch.hr.shape[0], processes = communicator.size
            guard batchSize % processes == 0 else {
                throw TrainingFailure(message: "data.batch \(batchSize) is not divisible by the \(processes) processes of this run")
            }
            // Each process takes its share of the batch; the loss is Σ|error| / (whole batch),
            // so the shares' gradients add up to the one-process gradient.
            let share = batchSize / processes, mine = communicator.rank * share..<(communicator.rank + 1) * share
            let (lr, hr) = processes == 1 ? (batch.lr, batch.hr) : (batch.lr.samples(mine), batch.hr.samples(mine))
            var loss = accumulateGradients(of: params) { l1Loss(net(lr), hr, reduction: .sum) * (1 / Float(batchSize)) }.item
            if processes > 1 {
                _ = try sumGradients(params, over: communicator, scale: 1)
                loss = Float(try communicator.sum([Double(loss)])[0])
            }
            guard loss.isFinite else { throw TrainingFailure(message: "RRDB pretraining: loss became \(loss) at step \(progress.step + 1)") }
            clipGradientValues(params, limit: Float(config.optimizer.clipValue))
            adam.step(learningRateFactor: schedule.factor(step: progress.step, epoch: progress.epoch))
            progress.step += 1
            progress.stepInEpoch += 1
            if progress.stepInEpoch == batches.batchesPerEpoch { progress.epoch += 1; progress.stepInEpoch = 0 }
            report(progress.step, loss)
            if progress.step % config.schedule.checkpointEvery == 0 { try save() }
        }
        try save()
    }

    func save() throws {
        guard communicator.isRoot else { return }
        let state = TrainingState(model: net.stateDict(), ema: [:], optimizer: adam.state, progress: progress,
                                  rngStates: [:], sampleLatent: nil, configYAML: config.yaml)
        try store.save(state)
        let weights = net.parameters().map { (name: $0.path, tensor: RawTensor($0.parameter.value)) }
        try Safetensors.write(TensorArchive(tensors: weights, metadata: ["source": "ecdp pretrain-rrdb", "step": "\(progress.step)"]),
                              to: encoderWeightsPath)
    }
}
