// Exact resume (straight N steps == k steps + resume to N, bit for bit, k mid-epoch),
// interruption, a non-finite loss, and config validation.
import Checkpoints
import Evaluation
import Foundation
import Imaging
import TestSupport
import Testing
import Training

func tinyConfig(_ extra: [String] = []) throws -> TrainingConfig {
    try TrainingConfig.load(FixturePaths.path("Training/configs/tiny.yaml"), overrides: [
        "data.train=\(FixturePaths.path("Training/data/demo/train"))",
        "data.validation=\(FixturePaths.path("Training/data/demo/test"))",
        "data.hr_crop=16", "sampling.validation_crop=16", "schedule.validate_every=0", "schedule.sample_every=0",
        "schedule.checkpoint_every=100", "optimizer.warmup_steps=2",
    ] + extra)
}

func assertIdentical(_ a: Trainer, _ b: Trainer) {
    let sa = a.state, sb = b.state
    #expect(sa.progress == sb.progress)
    #expect(sa.model.keys.sorted() == sb.model.keys.sorted())
    #expect(sa.model.allSatisfy { sb.model[$0.key]!.scalars == $0.value.scalars }, "weights differ")
    #expect(sa.ema.allSatisfy { sb.ema[$0.key]!.scalars == $0.value.scalars }, "EMA differs")
    #expect(sa.optimizer == sb.optimizer, "Adam state differs")
    #expect(sa.rngStates == sb.rngStates)
}

@Suite("Trainer", .serialized)
struct TrainerTests {
    @Test(arguments: [3, 5])  // 11 images, batch 2: 5 batches per epoch, so 3 is mid-epoch, 5 an epoch end
    func resumeIsBitIdentical(k: Int) throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let n = 7
        let straight = try Trainer.start(config: try tinyConfig(), runDirectory: dir.appendingPathComponent("a").path)
        #expect(try straight.train(until: n) == .finished(step: n))
        let runB = dir.appendingPathComponent("b").path
        let first = try Trainer.start(config: try tinyConfig(), runDirectory: runB)
        #expect(try first.train(until: k) == .finished(step: k))
        let resumed = try Trainer.resume(runDirectory: runB)
        #expect(resumed.progress.step == k)
        #expect(try resumed.train(until: n) == .finished(step: n))
        assertIdentical(straight, resumed)
        // Reloading the final checkpoint gives the same state again.
        assertIdentical(straight, try Trainer.resume(runDirectory: runB))
    }

    @Test func interruptionSavesAndResumes() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let straight = try Trainer.start(config: try tinyConfig(), runDirectory: dir.appendingPathComponent("a").path)
        _ = try straight.train(until: 6)
        let run = dir.appendingPathComponent("b").path
        let t = try Trainer.start(config: try tinyConfig(["schedule.log_every=1"]), runDirectory: run)
        var calls = 0
        let outcome = try t.train(until: 6, shouldStop: { calls += 1; return calls > 4 })
        #expect(outcome == .interrupted(step: 4))
        let resumed = try Trainer.resume(runDirectory: run)
        #expect(resumed.progress.step == 4)
        _ = try resumed.train(until: 6)
        assertIdentical(straight, resumed)
        // The run folder holds what a user expects.
        let files = try FileManager.default.contentsOfDirectory(atPath: run)
        #expect(Set(files).isSuperset(of: ["checkpoint.h5", "config.yaml", "metrics.jsonl"]))
        #expect(throws: TrainingFailure.self) { try Trainer.start(config: try tinyConfig(), runDirectory: run) }
    }

    /// One run folder, one process: a second start or resume while a trainer holds the
    /// folder stops with the holder's PID; once the holder's `train` returns, resume works.
    @Test func aRunFolderInUseIsRefused() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run").path
        let first = try Trainer.start(config: try tinyConfig(["schedule.validate_every=0", "schedule.sample_every=0"]), runDirectory: run)
        func refusal(_ body: () throws -> Trainer) -> String {
            do { _ = try body(); return "accepted" } catch { return "\(error)" }
        }
        let inUse = "\(run) is in use by another ecdp process (PID \(getpid()))"
        #expect(refusal { try Trainer.start(config: try tinyConfig(), runDirectory: run) }.hasPrefix(inUse))
        _ = try first.train(until: 1)
        let second = try Trainer.resume(runDirectory: run)
        #expect(refusal { try Trainer.resume(runDirectory: run) }.hasPrefix(inUse))
        _ = try second.train(until: 2)
        #expect(try Trainer.resume(runDirectory: run).progress.step == 2)
    }

    @Test func nonFiniteLossStopsAndKeepsTheLastGoodCheckpoint() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("nan").path
        let t = try Trainer.start(config: try tinyConfig(["optimizer.lr=1e30", "optimizer.rrdb_lr=1e30", "optimizer.warmup_steps=1",
                                                          "schedule.checkpoint_every=1"]), runDirectory: run)
        do {
            _ = try t.train(until: 50)
            Issue.record("training with lr 1e30 never produced a non-finite loss")
        } catch let failure as TrainingFailure {
            guard let match = failure.message.firstMatch(of: /at step (\d+)/), let failing = Int(match.1) else {
                Issue.record("the failure does not name its step: \(failure)"); return
            }
            // The checkpoint is the last step before the non-finite one, and its weights are exactly
            // those an identical run has at that step.
            #expect(failing >= 2, "\(failure)")
            let saved = try TrainingState.load(from: (run as NSString).appendingPathComponent("checkpoint.h5"))
            #expect(saved.progress.step == failing - 1)
            let twin = try Trainer.start(config: t.config, runDirectory: dir.appendingPathComponent("twin").path)
            _ = try twin.train(until: failing - 1)
            #expect(twin.progress.step == saved.progress.step)
            #expect(saved.model.keys.sorted() == twin.model.stateDict().keys.sorted())
            #expect(twin.model.stateDict().allSatisfy { saved.model[$0.key]?.scalars == $0.value.scalars }, "saved weights differ from the step's")
        }
    }

    @Test func validationAndSampleGridsAreWritten() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("v").path
        let t = try Trainer.start(config: try tinyConfig(["schedule.validate_every=2", "schedule.sample_every=2", "sampling.grid_steps=1",
                                                          "sampling.grid_images=2", "schedule.log_every=1",
                                                          "sampling.validation_solver=ddim:2", "sampling.validation_temperature=0.5"]),
                                  runDirectory: run)
        var events: [String] = []
        var quality: ImageMetrics?
        _ = try t.train(until: 2, report: { e in
            if case let .validation(_, _, q) = e { events.append("validation"); quality = q }
            if case .sampleGrid = e { events.append("grid") }
        })
        #expect(events == ["validation", "grid"])
        // The quality metrics of EMA samples, as `MetricProtocol.ecdp` measures them, logged beside the loss.
        #expect(quality?.protocolName == "ecdp" && (quality?.psnr ?? 0) > 5 && quality?.lrPSNR != nil && quality?.lpips == nil)
        #expect(try t.validationQuality() == quality!)  // a fixed seed: the same numbers again
        let grid = try PNG.read((run as NSString).appendingPathComponent("samples/step0000002.png"))
        #expect(grid.shape == [3, 2 * 16, 5 * 16])
        #expect(FileManager.default.fileExists(atPath: (run as NSString).appendingPathComponent("loss.svg")))
        let lines = try String(contentsOfFile: (run as NSString).appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)  // two step records, one validation record
        let record = try JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as! [String: Any]
        #expect(abs((record["val_psnr"] as? Double ?? 0) - (quality?.psnr ?? 1)) < 1e-9 && record["val_solver"] as? String == "ddim:2"
                && record["val_protocol"] as? String == "ecdp" && record["val_lpips"] is NSNull)
    }

    @Test func missingValidationFolderIsAnError() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Trainer.start(config: try tinyConfig(["data.validation=/nonexistent-validation", "schedule.validate_every=1"]),
                                  runDirectory: dir.appendingPathComponent("v").path)
        #expect(throws: ImageError(path: "/nonexistent-validation", reason: "no such folder")) { try t.train(until: 1) }
    }

    @Test func configTyposAndBadValuesAreNamed() throws {
        let path = FixturePaths.path("Training/configs/tiny.yaml")
        #expect { try TrainingConfig.load(path, overrides: ["optimizer.lerning_rate=1"]) } throws: {
            "\($0)".contains("unknown key 'optimizer.lerning_rate'")
        }
        #expect { try TrainingConfig.load(path, overrides: ["data.hr_crop=30"]) } throws: { "\($0)".contains("multiple of data.scale") }
        #expect { try TrainingConfig.load(path, overrides: ["diffusion.parametrization=v"]) } throws: { "\($0)".contains("parametrization") }
        #expect { try TrainingConfig.load(path, overrides: ["model.channels=[16, 20]"]) } throws: { "\($0)".contains("model.channels") }
        #expect { try TrainingConfig.load("/nonexistent.yaml") } throws: { "\($0)".contains("cannot read") }
        let c = try TrainingConfig.load(path, overrides: ["optimizer.lr=2e-4", "diffusion.sigma=auto"])
        #expect(c.optimizer.lr == 2e-4 && c.sigma == nil)
        // The saved YAML parses back to the same config.
        let tiny = try TrainingConfig.load(path)
        #expect(try TrainingConfig.parse(tiny.yaml, source: "round trip") == tiny)
    }
}

