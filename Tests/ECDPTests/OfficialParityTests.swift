// Parity with the official ECDP code, on files and numbers the official code made itself
// (Tests/Fixtures/generate_official_fixtures.py: its trainer's checkpoints at the `tiny`
// widths, its RRDBNet stage and README extraction, its `Diffusion.generate` in ODE, DDIM and
// ancestral mode through torchdiffeq).
import Checkpoints
@testable import ECDP
import Foundation
import Grad
import TestSupport
import Testing

let tiny = ModelConfig(channels: [16, 32, 32], blocks: [1, 1, 1], rrdbFeatures: 16, rrdbGrowth: 8, rrdbBlocks: 2, rrdbSelection: [0, 1])

func officialReference() throws -> [String: Any] {
    let data = try Data(contentsOf: FixturePaths.fixtures.appendingPathComponent("official_reference.json"))
    return try JSONSerialization.jsonObject(with: data) as! [String: Any]
}

func officialFile(_ name: String) throws -> TensorArchive {
    try TorchFile.archive(FixturePaths.path("Tests/Fixtures/official/\(name)"))
}

/// The official ECDP training checkpoint (13.6 MB), read once for all the tests that use it.
let officialCheckpoint = Result { try officialFile("ecdp_checkpoint.pt") }

/// The tiny model with the converted EMA weights of the official training checkpoint.
func officialTinyModel() throws -> ECDPModel {
    let ours = try KeyMap.ecdpOfficial.apply(try officialCheckpoint.get())
    let model = ECDPModel(config: tiny)
    var weights: [String: Tensor] = [:]
    for (name, t) in ours.tensors where name != "sample_fixed_latent" { weights[name] = t.floatTensor() }
    try model.load(weights)  // every parameter present, none extra, shapes equal
    model.setTraining(false)
    return model
}

/// PSNR in dB of two images in [0, 1] (the official image is not clamped; ours is).
func psnr(_ a: Tensor, _ b: Tensor) -> Double {
    let mse = zip(a.scalars, b.scalars).map { x, y in
        let d = Double(min(max(x, 0), 1)) - Double(min(max(y, 0), 1)); return d * d
    }.reduce(0, +) / Double(a.count)
    return 10 * log10(1 / mse)
}

@Suite("Official ECDP parity")
struct OfficialParityTests {
    @Test func trainingCheckpointConvertsWithTheEMAWeights() throws {
        let archive = try officialCheckpoint.get()
        let ref = try officialReference()
        let keys = ref["state_dict_keys"] as! [String]
        // Written as the official trainer writes: model, model_avg, optimizer, scheduler, latent.
        for k in keys { #expect(archive["model.\(k)"] != nil && archive["model_avg.\(k)"] != nil, "\(k)") }
        #expect(archive.tensors.contains { $0.name.hasPrefix("optim_model.state.") })
        #expect(archive.metadata["epoch_length"] == "215")
        let ours = try KeyMap.ecdpOfficial.apply(archive)
        #expect(ours.metadata["converted_from"] == "official ECDP training checkpoint, EMA weights (model_avg)")
        let learned = keys.filter { !$0.hasPrefix("model.diffusion.betas") && !$0.hasPrefix("model.diffusion.alpha") }
        #expect(ours.tensors.count == learned.count + 1)  // + sample_fixed_latent
        #expect(ours["unet.in_conv.network.weight"] == archive["model_avg.model.diffusion.network.in_conv.network.weight"])
        #expect(ours["rrdb.conv_first.weight"] == archive["model_avg.model.lr_feats.conv_first.weight"])
        #expect(ours["unet.in_conv.network.weight"] != archive["model.model.diffusion.network.in_conv.network.weight"])
        _ = try officialTinyModel()

        // Without model_avg (param_running_avg unset) the raw weights are taken, and said so.
        var raw = archive
        raw.tensors.removeAll { $0.name.hasPrefix("model_avg.") }
        let fromRaw = try KeyMap.ecdpOfficial.apply(raw)
        #expect(fromRaw.metadata["converted_from"] == "official ECDP training checkpoint, raw weights (model; the file has no model_avg)")
        #expect(fromRaw["unet.in_conv.network.weight"] == archive["model.model.diffusion.network.in_conv.network.weight"])

        // A bare state dict at either depth converts the same.
        for prefix in ["model.", ""] {
            var bare = TensorArchive()
            bare.tensors = archive.tensors.compactMap { n, t in
                n.hasPrefix("model_avg.model.") ? (prefix + n.dropFirst("model_avg.model.".count), t) : nil
            }
            let converted = try KeyMap.ecdpOfficial.apply(bare)
            #expect(converted.tensors.count == learned.count, "prefix '\(prefix)'")
            #expect(converted["unet.in_conv.network.weight"] == ours["unet.in_conv.network.weight"])
        }
    }

    @Test func reverseWritesTheNamesTheOfficialModelLoadsStrictly() throws {
        let archive = try officialCheckpoint.get()
        let keys = try officialReference()["state_dict_keys"] as! [String]
        let back = try KeyMap.ecdpOfficial.apply(try KeyMap.ecdpOfficial.apply(archive), towardOurs: false)
        #expect(back.tensors.map(\.name).sorted() == keys.sorted())
        for (name, t) in back.tensors {
            let official = archive["model_avg.\(name)"]!
            #expect(t.shape == official.shape, "\(name)")
            // The diffusion buffers are recomputed in Float: equal to the official ones to an ulp or two.
            #expect(maxDiff(t.floatTensor(), official.floatTensor()) <= 2e-7, "\(name)")
        }
    }

    @Test func rrdbNetStageAndExtractedFileLoadIntoOurRRDBNet() throws {
        let stage = try KeyMap.ecdpOfficial.apply(try officialFile("rrdbnet_checkpoint.pt"))
        let extracted = try KeyMap.ecdpOfficial.apply(try officialFile("pretrained-rrdbnet-df2k.pt"))
        #expect(stage.metadata["converted_from"] == "official RRDBNet training checkpoint, raw weights (model; the file has no model_avg)")
        #expect(extracted.metadata["converted_from"] == "official RRDBNet bare state dict")
        #expect(stage.tensors.map(\.name).filter { $0 != "sample_fixed_latent" }.sorted() == extracted.tensors.map(\.name).sorted())
        for (name, t) in extracted.tensors { #expect(stage[name] == t, "\(name)") }
        let keys = try officialReference()["rrdbnet_state_dict_keys"] as! [String]
        #expect(extracted.tensors.map(\.name).sorted() == keys.map { String($0.dropFirst("model.".count)) }.sorted())
        // The official RRDBNet stage: 2 blocks, head on block [1], ×4.
        let config = ModelConfig(channels: [16], blocks: [1], rrdbFeatures: 16, rrdbGrowth: 8, rrdbBlocks: 2, rrdbSelection: [1])
        var rng = RandomGenerator(seed: 0)
        let net = RRDBNet(config: config, scale: 4, using: &rng)
        try net.load(Dictionary(uniqueKeysWithValues: extracted.tensors.map { ($0.name, $0.tensor.floatTensor()) }))
        // Back to the extracted layout (what the official ECDP constructor loads).
        #expect(try KeyMap.ecdpOfficial.apply(extracted, towardOurs: false).tensors.map(\.name).sorted() == extracted.tensors.map(\.name).sorted())
    }

    /// The discrete grid of the ancestral and DDIM samplers against the official buffers (computed
    /// by the official `Diffusion.__init__` in Float32 and saved in its checkpoint): ᾱ_i = ᾱ((i + 1)/300·T),
    /// α_i = ᾱ_i/ᾱ_{i−1} (α_0 = ᾱ_0), β_i = 1 − α_i, all 300 entries.
    @Test func discreteGridMatchesTheOfficialBuffers() throws {
        let archive = try officialCheckpoint.get()
        let abar = MVPSDE().discreteAlphaBars(steps: 300)
        let alphas = abar.indices.map { $0 == 0 ? abar[0] : abar[$0] / abar[$0 - 1] }
        for (name, ours) in [("alpha_bars", abar), ("alphas", alphas), ("betas", alphas.map { 1 - $0 })] {
            let official = archive["model.model.diffusion.\(name)"]!.floatTensor().scalars
            #expect(official.count == 300)
            let worst = zip(ours, official).map { abs($0 - Double($1)) }.max()!
            // The official exponent (up to 10) is rounded in Float32: ~1e-6 apart; one grid index is ~1e-3.
            #expect(worst < 2e-6, "\(name): largest difference \(worst)")
        }
    }

    @Test func unknownLayoutsSayWhatWasTriedAndFound() throws {
        var archive = TensorArchive()
        archive.tensors = [("encoder.weight", RawTensor(Tensor([1], shape: [1]))), ("decoder.bias", RawTensor(Tensor([2], shape: [1])))]
        do {
            _ = try KeyMap.ecdpOfficial.apply(archive)
            Issue.record("no error for an unknown layout")
        } catch let error as KeyMapError {
            #expect(error.description.contains("Tried: official ECDP training checkpoint"))
            #expect(error.description.contains("'encoder.weight'") && error.description.contains("Found 2 tensors"))
        }
    }

    @Test func networkMatchesTheOfficialNetwork() throws {
        let model = try officialTinyModel()
        let ref = try officialReference()["forward"] as! [String: Any]
        let x = referenceTensor(ref, "x"), lr = referenceTensor(ref, "lr")
        withoutDerivatives {
            let feats = model.rrdb(lr)
            #expect(maxDiff(feats, referenceTensor(ref, "features")) < 1e-5)
            let pred = model.unet(x, times: referenceTensor(ref, "t").scalars, lrFeatures: feats)
            #expect(maxDiff(pred, referenceTensor(ref, "prediction")) < 1e-4, "prediction max diff \(maxDiff(pred, referenceTensor(ref, "prediction")))")
            #expect(maxDiff(model.probabilityFlow(x: x, time: 150, lrFeatures: feats), referenceTensor(ref, "flow_t150")) < 1e-5)
        }
    }

    /// The training loss of a fixed batch against the official `Diffusion.normalize` (same times,
    /// same noise): Σ(ε̂ − ε)² + Σ(x̂0 − x0)² per sample, averaged over the batch.
    @Test func trainingLossMatchesTheOfficialLoss() throws {
        let model = try officialTinyModel()
        let ref = try officialReference()["loss"] as! [String: Any]
        let official = referenceTensor(ref, "per_sample").scalars.map(Double.init)
        let loss = withoutDerivatives {
            model.loss(hr: referenceTensor(ref, "hr"), lr: referenceTensor(ref, "lr"),
                       times: referenceTensor(ref, "t").scalars, noise: referenceTensor(ref, "noise"))
        }
        let expected = official.reduce(0, +) / Double(official.count)
        #expect(abs(Double(loss.item) - expected) < 1e-5 * expected, "loss \(loss.item), official \(expected)")
    }

    /// The official test path (`Diffusion.generate` with the EMA model) against ours, from the
    /// same LR image and starting noise: the probability-flow ODE through torchdiffeq's dopri5
    /// (same network-evaluation count, image ≥ 60 dB), DDIM with 300 steps (≥ 60 dB), and the
    /// ancestral sampler's evaluation count.
    @Test func samplersMatchTheOfficialGenerate() throws {
        let model = try officialTinyModel()
        let ref = try officialReference()
        let lr = referenceTensor(ref, "lr"), xT = referenceTensor(ref, "x_T")
        var rng = RandomGenerator(seed: 0)
        for (solver, mode) in [("rk45", "ode"), ("ddim:300", "ddim")] {
            let official = ref[mode] as! [String: Any]
            let (image, nfe) = try model.superResolve(lr, startingNoise: xT, sampler: try Sampler.parse(solver), using: &rng)
            #expect(nfe == official["nfe"] as! Int, "\(solver): \(nfe) network evaluations, official \(official["nfe"]!)")
            let p = psnr(image, referenceTensor(official, "image"))
            #expect(p >= 60, "\(solver): \(p) dB against the official image")
            print("official parity: \(solver) \(nfe) evaluations, \(String(format: "%.1f", p)) dB")
        }
        // The ancestral sampler's noise comes from torch's generator, so only its evaluation
        // count is comparable; it does not depend on the network, so count with a cheap one.
        let ancestral = try Sampler.ancestral.run({ x, _ in x * 0 }, sde: model.diffusion.sde, xT: xT, using: &rng)
        #expect(ancestral.evaluations == (ref["ancestral"] as! [String: Any])["nfe"] as! Int)
    }
}
