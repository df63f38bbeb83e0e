// The full training state in one HDF5 file: everything `ecdp resume` needs to continue
// bit for bit.
//
// Layout (format version 1):
//   meta/format_version  int64[1]    meta/project_version, meta/config_yaml  utf-8 bytes
//   progress             int64[3]    (step, epoch, step within epoch)
//   model/<path>, ema/<path>                       fp32, the parameter's shape
//   optimizer/step/<path> int64[1], optimizer/m/<path>, optimizer/v/<path>  (Adam)
//   rng/<name>           uint64[4]   (RandomGenerator state words)
//   sample_latent        fp32        (the fixed latent of the sample grids; optional)
import AtomicFile
import Foundation
import Grad
import GradNN

public struct TrainingProgress: Sendable, Equatable {
    /// Optimizer steps taken so far.
    public var step: Int
    public var epoch: Int
    /// Batches of `epoch` already consumed.
    public var stepInEpoch: Int

    public init(step: Int = 0, epoch: Int = 0, stepInEpoch: Int = 0) {
        self.step = step
        self.epoch = epoch
        self.stepInEpoch = stepInEpoch
    }
}

public struct TrainingState {
    public static let formatVersion = 1
    public static let projectVersion = "0.1.0"

    public var model: [String: Tensor]
    public var ema: [String: Tensor]
    public var optimizer: AdamState
    public var progress: TrainingProgress
    public var rngStates: [String: [UInt64]]
    public var sampleLatent: Tensor?
    public var configYAML: String
    /// For a fine-tune: the parent it started from, "PATH sha256:HEX" (`meta/parent`; kept
    /// by `ecdp convert`, so an exported model names its parent).
    public var parent: String?

    public init(model: [String: Tensor], ema: [String: Tensor], optimizer: AdamState, progress: TrainingProgress,
                rngStates: [String: [UInt64]], sampleLatent: Tensor?, configYAML: String, parent: String? = nil) {
        self.model = model
        self.ema = ema
        self.optimizer = optimizer
        self.progress = progress
        self.rngStates = rngStates
        self.sampleLatent = sampleLatent
        self.configYAML = configYAML
        self.parent = parent
    }

    // MARK: Saving

    /// Writes the state to `path` atomically: a temporary file in the same folder is
    /// written, flushed to disk and renamed over `path`, so a crash at any moment leaves
    /// either the previous checkpoint or the new one, never a torn file.
    public func save(to path: String) throws {
        try AtomicFile.write(to: path, durable: true, makeError: { CheckpointError(path, $0) }) { temporary in
            do {
                let file = try HDF5File.create(temporary)
                try write(to: file)
                try file.close()
            } catch let e as CheckpointError where e.path == temporary {
                // Name the checkpoint the user asked for, not the temporary file.
                throw CheckpointError(path, e.reason)
            }
        }
    }

    private func write(to file: HDF5File) throws {
        try file.write("meta/format_version", integers: [Int64(Self.formatVersion)])
        try file.write("meta/project_version", string: Self.projectVersion)
        try file.write("meta/config_yaml", string: configYAML)
        if let parent { try file.write("meta/parent", string: parent) }
        try file.write("progress", integers: [progress.step, progress.epoch, progress.stepInEpoch].map(Int64.init))
        for (path, t) in model.sorted(by: { $0.key < $1.key }) { try file.write("model/\(path)", tensor: t) }
        for (path, t) in ema.sorted(by: { $0.key < $1.key }) { try file.write("ema/\(path)", tensor: t) }
        for (path, step) in optimizer.steps.sorted(by: { $0.key < $1.key }) {
            guard let shape = model[path]?.shape else { throw CheckpointError(file.path, "optimizer state for unknown parameter \(path)") }
            try file.write("optimizer/step/\(path)", integers: [Int64(step)])
            try file.write("optimizer/m/\(path)", floats: optimizer.firstMoments[path]!, shape: shape)
            try file.write("optimizer/v/\(path)", floats: optimizer.secondMoments[path]!, shape: shape)
        }
        for (name, words) in rngStates.sorted(by: { $0.key < $1.key }) { try file.write("rng/\(name)", unsigned: words) }
        if let sampleLatent { try file.write("sample_latent", tensor: sampleLatent) }
    }

    // MARK: Loading

    /// Reads a state written by `save`. Errors name the file and what is wrong: missing
    /// file, not HDF5, damaged, missing key, a newer format version.
    public static func load(from path: String) throws -> TrainingState {
        let file = try HDF5File.open(path)
        func need(_ name: String) throws {
            guard file.contains(name) else { throw CheckpointError(path, "missing key \(name) (not an ECDP training checkpoint?)") }
        }
        try need("meta/format_version")
        let version = Int(try file.integers("meta/format_version").first ?? 0)
        guard version <= formatVersion else {
            throw CheckpointError(path, "written by a newer version (format \(version)); this build reads format ≤ \(formatVersion)")
        }
        for key in ["progress", "meta/config_yaml"] { try need(key) }
        let names = try file.datasetNames()
        func group(_ prefix: String) -> [String] {
            names.filter { $0.hasPrefix(prefix + "/") }.map { String($0.dropFirst(prefix.count + 1)) }
        }
        var model: [String: Tensor] = [:], ema: [String: Tensor] = [:]
        for p in group("model") { model[p] = try file.tensor("model/\(p)") }
        for p in group("ema") { ema[p] = try file.tensor("ema/\(p)", expectedShape: model[p]?.shape ?? file.info("ema/\(p)").shape) }
        var optimizer = AdamState()
        for p in group("optimizer/step") {
            for key in ["optimizer/m/\(p)", "optimizer/v/\(p)"] { try need(key) }
            optimizer.steps[p] = Int(try file.integers("optimizer/step/\(p)")[0])
            optimizer.firstMoments[p] = try file.tensor("optimizer/m/\(p)").scalars
            optimizer.secondMoments[p] = try file.tensor("optimizer/v/\(p)").scalars
        }
        var rng: [String: [UInt64]] = [:]
        for name in group("rng") {
            let words = try file.unsigned("rng/\(name)")
            guard words.count == 4 else { throw CheckpointError(path, "rng/\(name) has \(words.count) words, expected 4") }
            rng[name] = words
        }
        let progress = try file.integers("progress")
        guard progress.count == 3 else { throw CheckpointError(path, "progress has \(progress.count) values, expected 3") }
        // Counters beyond 2^40 steps are not progress but damage (and would overflow later).
        guard progress.allSatisfy({ (0...(1 << 40)).contains($0) }) else {
            throw CheckpointError(path, "progress (step \(progress[0]), epoch \(progress[1]), step in epoch \(progress[2])) is negative or absurd; the file is damaged")
        }
        return TrainingState(
            model: model, ema: ema, optimizer: optimizer,
            progress: TrainingProgress(step: Int(progress[0]), epoch: Int(progress[1]), stepInEpoch: Int(progress[2])),
            rngStates: rng, sampleLatent: file.contains("sample_latent") ? try file.tensor("sample_latent") : nil,
            configYAML: try file.string("meta/config_yaml"),
            parent: file.contains("meta/parent") ? try file.string("meta/parent") : nil)
    }
}

/// Where a run keeps its checkpoints: the latest at `checkpoint.h5`, plus a copy every
/// `keepEvery` steps as `checkpoint-step<N>.h5` (nil keeps only the latest).
public struct CheckpointStore: Sendable {
    public let directory: String
    public let keepEvery: Int?

    public init(directory: String, keepEvery: Int? = nil) {
        self.directory = directory
        self.keepEvery = keepEvery
    }

    public var latestPath: String { (directory as NSString).appendingPathComponent("checkpoint.h5") }

    public func archivedPath(step: Int) -> String {
        (directory as NSString).appendingPathComponent("checkpoint-step\(step).h5")
    }

    /// Saves `state` as the latest checkpoint (atomically) and, on a retention step, an
    /// archived copy.
    public func save(_ state: TrainingState) throws {
        try state.save(to: latestPath)
        if let n = keepEvery, n > 0, state.progress.step % n == 0 {
            try state.save(to: archivedPath(step: state.progress.step))
        }
    }

    public func loadLatest() throws -> TrainingState { try TrainingState.load(from: latestPath) }
}
