// The fine-tuning gradient of each term (adjoint through the probability-flow ODE, then the
// encoder through ∂L/∂features) against direct back-propagation through the same adaptive
// solve, and a fine-tune that resumes bit for bit.
import ECDP
import Foundation
import Grad
import GradNN
import TestSupport
import Testing
@testable import Training

@Suite("Fine-tuning gradients", .serialized)
struct FinetuneGradientTests {
    func finetuneConfig(_ tolerance: Double = 1e-4, _ extra: [String] = []) throws -> TrainingConfig {
        try tinyConfig(["finetune.iq_weight=0.5", "finetune.random_features=true", "finetune.score_matching_weight=0",
                        "finetune.rtol=\(tolerance)", "finetune.atol=\(tolerance)", "finetune.vgg_width_divisor=16",
                        "finetune.encoder_gradients=true", "data.batch=1", "optimizer.lr=1e-3", "optimizer.ema_horizon=10"] + extra)
    }

    enum Term: String, CaseIterable { case features, pixel }

    /// Each sampled term alone: the trainer's adjoint gradients (U-Net and encoder) against
    /// `vjp` through the very Dormand–Prince solve the adjoint replays.
    @Test(arguments: Term.allCases)
    func gradientEqualsDirectBackpropagationThroughTheSolve(_ term: Term) throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cfg = try finetuneConfig(1e-4, term == .pixel
            ? ["finetune.iq_weight=0", "finetune.pixel_weight=50", "finetune.pixel_temperature=0.5"] : [])
        let ft = cfg.finetune!
        let t = try Trainer.start(config: cfg, runDirectory: dir.appendingPathComponent("ft").path)
        // Give the zero-initialised last convs some weight so every parameter matters.
        var rng = RandomGenerator(seed: 12)
        for (_, p) in t.model.parameters() { p.value = p.value + Tensor.randomNormal(p.shape, std: 0.02, using: &rng) }
        let batch = try t.batches.batch(epoch: 0, step: 0)
        let params = t.model.unet.parameters().map(\.parameter) + t.model.rrdb.parameters().map(\.parameter)
        for p in params { p.gradient = nil }
        var noise = t.noise  // the z the trainer is about to draw
        let report = try t.finetuneGradients(batch, ft)
        let adjoint = params.map { $0.gradient! }
        let weighted = ft.weightedLoss(report)

        let model = t.model
        let temperature = term == .pixel ? ft.pixelTemperature : ft.iqTemperature
        let xT = Tensor.randomNormal(batch.hr.shape, using: &noise) * Float(temperature)
        let (h, w) = (batch.hr.shape[2], batch.hr.shape[3])
        let mu = withoutDerivatives { model.mean(lr: batch.lr, height: h, width: w) }
        let loss: (Tensor) -> Tensor
        switch term {
        case .features:
            let imageQuality = ImageQualityLoss(features: try t.features(ft), weight: Float(ft.iqWeight))
            let target = imageQuality.target(batch.hr)
            loss = { imageQuality($0, target: target) }
        case .pixel:
            loss = { l1Loss($0, batch.hr) * Float(ft.pixelWeight) }
        }
        let solver = DormandPrince(rtol: ft.rtol, atol: ft.atol)
        let direct = vjp(at: [], parameters: params, cotangent: nil) { _ in
            let feats = model.rrdb(batch.lr)
            let y = try! solver.integrate({ y, time in model.probabilityFlow(x: y, time: time, lrFeatures: feats) },
                                          from: xT, t0: model.diffusion.sde.horizon, t1: 0.1, jumpTimes: [0.1]).y
            return loss(mu + y * model.diffusion.sigma)
        }
        #expect(abs(direct.value.item - weighted) <= 1e-5 * abs(direct.value.item), "loss \(weighted) vs direct \(direct.value.item)")
        #expect(report.forwardEvaluations > 0 && report.adjointEvaluations > 0)
        var num = 0.0, den = 0.0
        for (a, d) in zip(adjoint, direct.parameterGradients) {
            #expect(a.shape == d.shape)
            for (u, v) in zip(a.scalars, d.scalars) { num += Double(u - v) * Double(u - v); den += Double(v) * Double(v) }
        }
        let relative = (num / den).squareRoot()

        print("fine-tune \(term) gradient vs direct back-propagation: relative error \(relative) (rtol \(ft.rtol))")
        #expect(den > 0 && adjoint.count == direct.parameterGradients.count)
        // Two solves to the same tolerance: the difference shrinks with it (features term:
        // 0.18, 0.056, 0.006 at 1e-3, 1e-4, 1e-5, the U-Net and encoder parts alike; pixel
        // term 0.09 at 1e-4), 600–900× the tolerance; the bound is 2000×. A wrong gradient
        // is off by O(1).
        #expect(relative < 2000 * ft.rtol, "relative error \(relative)")
    }

    /// Without `encoder_gradients` (the official adjoint) the sampled terms leave the
    /// encoder's gradient empty; the U-Net's is the same as with it.
    @Test func officialAdjointLeavesTheEncoderOut() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var gradients: [[Tensor?]] = []
        var unetCount = 0
        for encoder in [true, false] {
            let cfg = try finetuneConfig(1e-2, ["finetune.encoder_gradients=\(encoder)"])
            let t = try Trainer.start(config: cfg, runDirectory: dir.appendingPathComponent("ft-\(encoder)").path)
            let batch = try t.batches.batch(epoch: 0, step: 0)
            _ = try t.finetuneGradients(batch, cfg.finetune!)
            gradients.append(t.model.unet.parameters().map(\.parameter.gradient))
            unetCount = gradients.last!.count
            let rrdb = t.model.rrdb.parameters().map(\.parameter.gradient)
            #expect(encoder ? rrdb.allSatisfy { $0 != nil } : rrdb.allSatisfy { $0 == nil })
        }
        for k in 0..<unetCount { #expect(gradients[0][k]!.scalars == gradients[1][k]!.scalars) }
    }

    @Test func finetuneResumesBitForBit() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cfg = try finetuneConfig(0.05, ["schedule.checkpoint_every=1"])
        let straight = try Trainer.start(config: cfg, runDirectory: dir.appendingPathComponent("a").path)
        _ = try straight.train(until: 2)
        let run = dir.appendingPathComponent("b").path
        _ = try Trainer.start(config: cfg, runDirectory: run).train(until: 1)
        let resumed = try Trainer.resume(runDirectory: run)
        _ = try resumed.train(until: 2)
        assertIdentical(straight, resumed)
    }
}
