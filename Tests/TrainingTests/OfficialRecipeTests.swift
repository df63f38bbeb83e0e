// The paper-* / official-* configs against the official conf/*.yaml values (the table in
// docs/training.md), the official architectures' parameter counts, and what a paper config
// does without a dataset.
import ECDP
import Foundation
import Grad
import TestSupport
import Testing
import Training

@Suite("Official recipes")
struct OfficialRecipeTests {
    func config(_ name: String, _ overrides: [String] = []) throws -> TrainingConfig {
        try TrainingConfig.load(FixturePaths.path("Training/configs/\(name).yaml"), overrides: overrides)
    }

    /// (config, RRDB blocks, selection, batch, crop, lr, milestones in epochs, iterations an epoch, epochs)
    /// from the official conf files; DF2K epochs are 3,450 images / batch, the last batch dropped.
    static let recipes: [(String, Int, [Int], Int, Int, Double, [Int], Int, Int)] = [
        ("paper-div2k", 23, [1, 8, 15, 22], 16, 160, 1e-4, [300, 400], 215, 500),
        ("paper-imagenet", 16, [1, 5, 10, 15], 6, 256, 2e-4, [400, 450], 200, 500),
        ("paper-celeba", 8, [1, 3, 5, 7], 12, 160, 1e-4, [300, 400], 200, 500),
        ("official-celeba", 8, [1, 3, 5, 7], 12, 160, 1e-4, [300, 400], 200, 500),
        ("paper-div2k-rrdbnet", 23, [22], 32, 160, 2e-4, [300, 400, 450], 107, 500),
        ("paper-celeba-rrdbnet", 8, [7], 64, 160, 2e-4, [30, 40, 45], 1000, 50),
        ("paper-imagenet-rrdbnet", 16, [15], 32, 256, 2e-4, [250, 290], 1000, 300),
        ("paper-div2k-finetune", 23, [1, 8, 15, 22], 12, 160, 1e-5, [300, 400], 20, 50),
        ("paper-celeba-finetune", 8, [1, 3, 5, 7], 12, 160, 1e-5, [300, 400], 20, 50),
        ("paper-imagenet-finetune", 16, [1, 5, 10, 15], 6, 256, 1e-5, [400, 450], 20, 50),
    ]

    @Test func configsCarryTheOfficialValues() throws {
        for (name, blocks, selection, batch, crop, lr, milestones, perEpoch, epochs) in Self.recipes {
            let c = try config(name)
            #expect(c.model.rrdbBlocks == blocks && c.model.rrdbSelection == selection, "\(name) RRDB")
            #expect(c.data.batch == batch && c.data.hrCrop == crop, "\(name) batch/crop")
            #expect(c.optimizer.lr == lr && c.optimizer.milestones == milestones && c.optimizer.clipValue == 10, "\(name) optimizer")
            #expect(c.schedule.iterationsPerEpoch == perEpoch && c.schedule.steps == perEpoch * epochs, "\(name) schedule")
            #expect(c.data.train.isEmpty, "\(name) names no default dataset")
            #expect(try TrainingConfig.parse(c.yaml, source: name) == c, "\(name) round trip")
        }
        #expect(try config("paper-celeba-finetune").finetune?.iqWeight == 1)
        #expect(try config("paper-div2k-finetune").finetune?.iqWeight == 0.5)
        #expect(try config("paper-imagenet-finetune").finetune?.iqWeight == 0.5)
    }

    /// Counts of the official code's models (its U-Net has 2 blocks per level for every data set).
    @Test func officialArchitecturesHaveTheOfficialParameterCounts() throws {
        for (name, count) in [("paper-div2k", 42_587_846), ("paper-imagenet", 37_551_878), ("official-celeba", 31_796_486)] {
            #expect(ECDPModel(config: try config(name).model).parameterCount == count, "\(name)")
        }
        #expect(try config("paper-celeba").model.blocks == [3, 3, 3, 3])  // the paper's stated 40.0 M
    }

    @Test func paperConfigsSayHowToPointAtADataset() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect { try Trainer.start(config: try config("paper-div2k"), runDirectory: dir.appendingPathComponent("r").path) } throws: {
            "\($0)".contains("no training data") && "\($0)".contains("data.train=[/data/DIV2K_train_HR,/data/Flickr2K_HR]")
        }
        // A list of folders is one training set; the epoch is cut at iterations_per_epoch.
        let demo = FixturePaths.path("Training/data/demo")
        let c = try config("tiny", ["data.train=[\(demo)/train, \(demo)/test]", "schedule.iterations_per_epoch=3"])
        #expect(c.data.train.count == 2)
        let batches = try c.trainingBatches()
        #expect(batches.dataset.count == 15 && batches.batchesPerEpoch == 3)
        #expect(try config("tiny", ["data.train=\(demo)/train"]).trainingBatches().batchesPerEpoch == 5)  // 11 images, batch 2
    }
}

@Suite("Shipped configs and model")
struct ShippedTests {
    /// Every config in Training/configs parses, round-trips through its YAML and builds its model.
    @Test func everyShippedConfigLoads() throws {
        let folder = FixturePaths.path("Training/configs")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names.count >= 13)
        for name in names {
            let c = try TrainingConfig.load((folder as NSString).appendingPathComponent(name))
            #expect(c.name + ".yaml" == name, "\(name) names itself \(c.name)")
            #expect(try TrainingConfig.parse(c.yaml, source: name) == c, "\(name) round trip")
            #expect(c.model.problems.isEmpty, "\(name): \(c.model.problems)")
        }
    }

    /// The shipped `small` model beats bicubic on a held-out demo photograph at τ = 0
    /// (a 64² HR crop, MATLAB-bicubic LR, DPM-Solver-3 with 10 steps).
    @Test func shippedModelBeatsBicubic() throws {
        let (model, config) = try InferenceModel.load(checkpoint: FixturePaths.path("Checkpoints/pretrained/ecdp-small-demo.safetensors"))
        #expect(config.name == "small")
        let data = try SRDataset(hrFolder: FixturePaths.path("Training/data/demo/test"), scale: 4)
        var rng = RandomGenerator(seed: 0)
        var gains: [Double] = []
        for index in 0..<data.count {
            let (hr, lr) = try data.crop(index, y: 64, x: 64, size: 64)
            let batch = lr.reshaped([1] + lr.shape)
            let (sr, _) = try model.superResolve(batch, startingNoise: Tensor.zeros([1, 3, 64, 64]),
                                                   sampler: .dpmSolver(order: 3, steps: 10), using: &rng)
            let bicubic = model.bicubicBaseline(batch, height: 64, width: 64)
            func psnr(_ x: Tensor) -> Double {
                let mse = zip(x.scalars, hr.scalars).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +) / Double(hr.count)
                return 10 * log10(1 / mse)
            }
            gains.append(psnr(sr) - psnr(bicubic))
        }
        print("shipped model vs bicubic, PSNR gain per demo crop (dB): \(gains)")
        // Measured: +0.03, +0.09, +0.51, +0.06 dB on these crops (+0.6 dB on the whole photographs).
        #expect(gains.reduce(0, +) / Double(gains.count) > 0.1, "mean gain \(gains)")
        #expect(gains.allSatisfy { $0 > 0 }, "\(gains)")
    }
}
