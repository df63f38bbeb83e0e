// RRDB pretraining feeds ECDP training; trained weights load for inference from the
// training state and from a safetensors export alike, and sampling is deterministic.
import Checkpoints
import ECDP
import Foundation
import Grad
import TestSupport
import Testing
import Training

@Suite("Pretraining and inference", .serialized)
struct PretrainAndInferenceTests {
    @Test func pretrainedEncoderStartsECDPTraining() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cfg = try tinyConfig(["optimizer.lr=1e-3"])
        let pre = try RRDBPretrainer(config: cfg, runDirectory: dir.appendingPathComponent("rrdb").path)
        var losses: [Float] = []
        try pre.train(until: 12, report: { _, loss in losses.append(loss) })
        #expect(losses.count == 12)
        #expect(losses.suffix(3).reduce(0, +) < losses.prefix(3).reduce(0, +), "\(losses)")
        let withInit = try tinyConfig(["model.rrdb_init=\(pre.encoderWeightsPath)"])
        let trainer = try Trainer.start(config: withInit, runDirectory: dir.appendingPathComponent("ecdp").path)
        let encoder = pre.net.rrdb.stateDict()
        for (path, value) in trainer.model.rrdb.stateDict() { #expect(value.scalars == encoder[path]!.scalars, "\(path)") }
    }

    @Test func inferenceLoadsFromStateAndExportAlike() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run").path
        let trainer = try Trainer.start(config: try tinyConfig(), runDirectory: run)
        _ = try trainer.train(until: 2)
        let state = (run as NSString).appendingPathComponent("checkpoint.h5")
        let export = dir.appendingPathComponent("ema.safetensors").path
        try CheckpointFormat.write(try KeyMap.emaWeights.apply(try CheckpointFormat.read(state)), to: export)
        let a = try InferenceModel.load(checkpoint: state).model
        let b = try InferenceModel.load(checkpoint: export).model
        #expect(a.stateDict().mapValues(\.scalars) == trainer.ema.averages.mapValues(\.scalars))
        #expect(b.stateDict().mapValues(\.scalars) == a.stateDict().mapValues(\.scalars))
        var rng = RandomGenerator(seed: 1)
        let lr = Tensor.randomUniform([1, 3, 4, 4], using: &rng)
        let xT = Tensor.randomNormal([1, 3, 16, 16], using: &rng)
        let s1 = try a.superResolve(lr, startingNoise: xT, sampler: .ddim(steps: 3), using: &rng)
        let s2 = try b.superResolve(lr, startingNoise: xT, sampler: .ddim(steps: 3), using: &rng)
        #expect(s1.evaluations == 3 && s1.image.scalars == s2.image.scalars)
        #expect(s1.image.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        // A bare weights file needs --config; a wrong architecture is named.
        let bare = dir.appendingPathComponent("bare.safetensors").path
        var archive = try CheckpointFormat.read(export); archive.metadata = [:]
        try CheckpointFormat.write(archive, to: bare)
        #expect { try InferenceModel.load(checkpoint: bare) } throws: { "\($0)".contains("--config") }
        let small = try TrainingConfig.load(FixturePaths.path("Training/configs/small.yaml"))
        #expect { try InferenceModel.load(checkpoint: bare, config: small) } throws: { "\($0)".contains("do not fit") }
    }
}
