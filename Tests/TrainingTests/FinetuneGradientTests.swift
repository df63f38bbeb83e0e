// The fine-tuning gradient (adjoint through the probability-flow ODE, then the encoder
// through ∂L/∂features) against direct back-propagation through the same adaptive solve, and
// a fine-tune that resumes bit for bit.
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
        try tinyConfig(["finetune.iq_weight=0.5", "finetune.score_matching_weight=0", "finetune.rtol=\(tolerance)",
                        "finetune.atol=\(tolerance)", "finetune.vgg_width_divisor=16", "data.batch=1",
                        "optimizer.lr=1e-3", "optimizer.ema_horizon=10"] + extra)
    }

    @Test func gradientEqualsDirectBackpropagationThroughTheSolve() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cfg = try finetuneConfig()
        let ft = cfg.finetune!
        let t = try Trainer.start(config: cfg, runDirectory: dir.appendingPathComponent("ft").path)
        // Give the zero-initialised last convs some weight so every parameter matters.
        var rng = RandomGenerator(seed: 12)
        for (_, p) in t.model.parameters() { p.value = p.value + Tensor.randomNormal(p.shape, std: 0.02, using: &rng) }
        let batch = try t.batches.batch(epoch: 0, step: 0)
        let params = t.model.unet.parameters().map(\.parameter) + t.model.rrdb.parameters().map(\.parameter)
        for p in params { p.gradient = nil }
        var noise = t.noise  // the x_T the trainer is about to draw
        let iq = try t.imageQualityGradients(batch, ft)
        let adjoint = params.map { $0.gradient! }

        let model = t.model, vgg = try t.vgg(ft)
        let xT = Tensor.randomNormal(batch.hr.shape, using: &noise)
        let (h, w) = (batch.hr.shape[2], batch.hr.shape[3])
        let mu = withoutDerivatives { model.mean(lr: batch.lr, height: h, width: w) }
        let target = withoutDerivatives { vgg(batch.hr) }
        let solver = DormandPrince(rtol: ft.rtol, atol: ft.atol)
        let direct = vjp(at: [], parameters: params, cotangent: nil) { _ in
            let feats = model.rrdb(batch.lr)
            let y = try! solver.integrate({ y, time in model.probabilityFlow(x: y, time: time, lrFeatures: feats) },
                                          from: xT, t0: model.diffusion.sde.horizon, t1: 0.1, jumpTimes: [0.1]).y
            return l1Loss(vgg(mu + y * model.diffusion.sigma), target) * Float(ft.iqWeight)
        }
        #expect(abs(direct.value.item - iq) <= 1e-5 * abs(direct.value.item), "loss \(iq) vs direct \(direct.value.item)")
        var num = 0.0, den = 0.0
        for (a, d) in zip(adjoint, direct.parameterGradients) {
            #expect(a.shape == d.shape)
            for (u, v) in zip(a.scalars, d.scalars) { num += Double(u - v) * Double(u - v); den += Double(v) * Double(v) }
        }
        let relative = (num / den).squareRoot()

        print("fine-tune gradient vs direct back-propagation: relative error \(relative) (rtol \(ft.rtol))")
        #expect(den > 0 && adjoint.count == direct.parameterGradients.count)
        // Two solves to the same tolerance: the difference shrinks with it (measured 0.18, 0.056,
        // 0.006 at 1e-3, 1e-4, 1e-5, the U-Net and encoder parts alike), ~600× the tolerance.
        #expect(relative < 1000 * ft.rtol, "relative error \(relative)")
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
