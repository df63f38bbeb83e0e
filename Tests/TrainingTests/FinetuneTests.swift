// Fine-tuning: starts from the parent's weights, takes adjoint gradient steps (tiny model),
// lowers the pixel term on its own training crops, reads its config keys with the
// official defaults, and refuses a parent with another diffusion.
import ECDP
import Foundation
import Grad
import Imaging
import TestSupport
import Testing
@testable import Training

@Suite("Fine-tuning", .serialized)
struct FinetuneTests {
    @Test func finetuneStepsFromTheParent() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let parent = try Trainer.start(config: try tinyConfig(), runDirectory: dir.appendingPathComponent("parent").path)
        _ = try parent.train(until: 2)
        let cfg = try tinyConfig(["finetune.iq_weight=0.5", "finetune.random_features=true", "finetune.score_matching_weight=0",
                                  "finetune.rtol=0.05", "finetune.atol=0.05", "finetune.vgg_width_divisor=16",
                                  "optimizer.lr=1e-3", "optimizer.ema_horizon=10", "data.batch=1"])
        let run = dir.appendingPathComponent("ft").path
        let start = parent.ema.averages
        let ft = try Trainer.start(config: cfg, runDirectory: run, initialWeights: start, parent: "parent.h5 sha256:00ff")
        var losses: [Float] = []
        var reports: [FinetuneStepReport] = []
        #expect(try ft.train(until: 1, report: {
            if case let .step(_, _, loss, _) = $0 { losses.append(loss) }
            if case let .finetuneStep(r) = $0 { reports.append(r) }
        }) == .finished(step: 1))
        #expect(losses.count == 1 && losses[0].isFinite && losses[0] > 0)
        #expect(reports.count == 1 && reports[0].featureLabel == "random features (vgg19 layout)" && reports[0].pixel == nil)
        let after = ft.model.stateDict()
        #expect(after.contains { start[$0.key]!.scalars != $0.value.scalars }, "no parameter moved")
        let resumed = try Trainer.resume(runDirectory: run)
        #expect(resumed.config.finetune == cfg.finetune)
        #expect(resumed.parent == "parent.h5 sha256:00ff")
        #expect(resumed.model.stateDict().mapValues(\.scalars) == after.mapValues(\.scalars))
    }

    /// A few pixel-term steps lower that term on the crops they trained on (the solve at
    /// temperature 0 is deterministic, so before and after are the same measurement).
    @Test func pixelFinetuneLowersThePixelLossOnItsTrainingCrops() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let parent = try Trainer.start(config: try tinyConfig(["optimizer.warmup_steps=1", "optimizer.lr=1e-3", "schedule.validate_every=0",
                                                              "schedule.sample_every=0"]),
                                       runDirectory: dir.appendingPathComponent("parent").path)
        _ = try parent.train(until: 5)
        // Two 32² training images, each one whole crop: every step sees the same two crops.
        let folder = dir.appendingPathComponent("crops").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let photo = try PNG.read(FixturePaths.path("Training/data/demo/train/coffee.png"))
        try PNG.write(photo.slice(start: [0, 100, 100], size: [3, 32, 32]), to: "\(folder)/a.png")
        try PNG.write(photo.slice(start: [0, 160, 40], size: [3, 32, 32]), to: "\(folder)/b.png")
        let cfg = try tinyConfig(["finetune.pixel_weight=50", "finetune.score_matching_weight=0", "finetune.rtol=0.05",
                                  "finetune.atol=0.05", "data.hr_crop=32", "optimizer.lr=1e-4", "optimizer.rrdb_lr=2e-4", "optimizer.warmup_steps=1",
                                  "optimizer.ema_horizon=10", "data.batch=2", "data.augment=false", "data.train=\(folder)",
                                  "schedule.validate_every=0", "schedule.sample_every=0"])
        let ft = try Trainer.start(config: cfg, runDirectory: dir.appendingPathComponent("ft").path,
                                   initialWeights: parent.model.stateDict())
        let crops = try ft.batches.batch(epoch: 0, step: 0)
        func pixelLoss() throws -> Float {
            let r = try ft.finetuneGradients(crops, cfg.finetune!)
            for (_, p) in ft.model.parameters() { p.gradient = nil }
            return r.pixel!
        }
        let before = try pixelLoss()
        let start = ft.model.stateDict()
        _ = try ft.train(until: 4)
        let after = try pixelLoss()
        print("pixel term on its training crops: \(before) → \(after) after 4 steps")
        #expect(ft.model.stateDict().contains { start[$0.key]!.scalars != $0.value.scalars })
        #expect(after < 0.97 * before, "pixel loss \(before) → \(after)")
    }

    @Test func configKeysFollowTheOfficialDefaults() throws {
        let pixel = try tinyConfig(["finetune.pixel_weight=50"]).finetune!
        #expect(pixel.iqWeight == 0 && pixel.scoreMatchingWeight == 1 && pixel.pixelTemperature == 0 && pixel.iqTemperature == 1)
        #expect(pixel.features == .vgg19 && !pixel.encoderGradients && pixel.rtol == 1e-3)
        let features = try tinyConfig(["finetune.iq_weight=0.5", "finetune.vgg_weights=vgg.safetensors"])
        #expect(features.finetune!.scoreMatchingWeight == 0 && features.finetune!.featureWeights == "vgg.safetensors")
        #expect(features.finetuneProblem == nil && features.finetune!.featureLabel == "vgg19 features")
        #expect(try tinyConfig(["finetune.iq_weight=0.5"]).finetuneProblem?.contains("finetune.random_features") == true)
        #expect(throws: ConfigError.self) { try tinyConfig(["finetune.features=resnet50", "finetune.pixel_weight=1"]) }
        #expect(throws: ConfigError.self) {
            try tinyConfig(["finetune.feature_weights=a.safetensors", "finetune.vgg_weights=b.safetensors", "finetune.iq_weight=1"])
        }
        #expect(throws: ConfigError.self) { try tinyConfig(["finetune.score_matching_weight=0"]) }
        // A config that cannot fine-tune leaves no run folder behind.
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("ft").path
        #expect(throws: TrainingFailure.self) { try Trainer.start(config: try tinyConfig(["finetune.iq_weight=0.5"]), runDirectory: run) }
        #expect(!FileManager.default.fileExists(atPath: run))
    }

    @Test func aParentWithAnotherDiffusionIsNamed() throws {
        let parent = try tinyConfig()
        #expect(try tinyConfig(["finetune.pixel_weight=1"]).diffusionDifferences(fromParent: parent).isEmpty)
        let other = try tinyConfig(["finetune.pixel_weight=1", "diffusion.parametrization=eps", "diffusion.gamma=2", "diffusion.sigma=0.25"])
        let differences = other.diffusionDifferences(fromParent: parent)
        #expect(differences == ["diffusion.parametrization: parent hybrid, fine-tune eps", "diffusion.gamma: parent 1.0, fine-tune 2.0",
                                "diffusion.sigma: parent 0.2, fine-tune 0.25"])
    }

    /// A random network keeps activation scale through depth (Kaiming-normal): VGG19's
    /// conv5_4 on a random image is not vanishingly small, unlike PyTorch's default init.
    @Test func randomFeaturesKeepTheirScale() {
        var rng = RandomGenerator(seed: 3)
        let image = Tensor.randomUniform([1, 3, 64, 64], using: &rng)
        for architecture in PerceptualFeatures.Architecture.allCases {
            let net = PerceptualFeatures(architecture, widthDivisor: architecture == .alexnet ? 1 : 4, seed: 1)
            let last = net(image).last!.scalars
            let rms = (last.reduce(0) { $0 + Double($1) * Double($1) } / Double(last.count)).squareRoot()
            #expect(rms > 0.05, "\(architecture): rms \(rms) at its last tap")
            #expect(net.isRandomlyInitialized)
        }
    }
}
