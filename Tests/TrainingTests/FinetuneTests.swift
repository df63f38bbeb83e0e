// Image-quality fine-tuning: starts from the parent's weights, takes adjoint gradient
// steps (tiny model, a narrow random VGG), and resumes like training.
import Foundation
import TestSupport
import Testing
import Training

@Suite("Fine-tuning", .serialized)
struct FinetuneTests {
    @Test func finetuneStepsFromTheParent() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let parent = try Trainer.start(config: try tinyConfig(), runDirectory: dir.appendingPathComponent("parent").path)
        _ = try parent.train(until: 2)
        let cfg = try tinyConfig(["finetune.iq_weight=0.5", "finetune.score_matching_weight=0", "finetune.rtol=0.05",
                                  "finetune.atol=0.05", "finetune.vgg_width_divisor=16", "optimizer.lr=1e-3",
                                  "optimizer.ema_horizon=10", "data.batch=1"])
        let run = dir.appendingPathComponent("ft").path
        let start = parent.ema.averages
        let ft = try Trainer.start(config: cfg, runDirectory: run, initialWeights: start)
        var losses: [Float] = []
        #expect(try ft.train(until: 1, report: { if case let .step(_, _, loss, _) = $0 { losses.append(loss) } }) == .finished(step: 1))
        #expect(losses.count == 1 && losses[0].isFinite && losses[0] > 0)
        let after = ft.model.stateDict()
        #expect(after.contains { start[$0.key]!.scalars != $0.value.scalars }, "no parameter moved")
        let resumed = try Trainer.resume(runDirectory: run)
        #expect(resumed.config.finetune == cfg.finetune)
        #expect(resumed.model.stateDict().mapValues(\.scalars) == after.mapValues(\.scalars))
    }
}
