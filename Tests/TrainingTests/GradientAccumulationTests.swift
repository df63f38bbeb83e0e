// `optimizer.accumulate: k` computes each batch in k micro-batches: the same batch, the same
// randomness drawn, the same mean gradient up to the order of float sums.
import Foundation
import Grad
import GradNN
import TestSupport
import Testing
@testable import Training

@Suite("Gradient accumulation")
struct GradientAccumulationTests {
    @Test func twoMicroBatchesGiveTheGradientOfOne() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let whole = try Trainer.start(config: try tinyConfig(), runDirectory: dir.appendingPathComponent("a").path)
        let halves = try Trainer.start(config: try tinyConfig(["optimizer.accumulate=2"]), runDirectory: dir.appendingPathComponent("b").path)
        let batch = try whole.batches.batch(epoch: 0, step: 0)
        let p1 = whole.model.parameters().map(\.parameter), p2 = halves.model.parameters().map(\.parameter)
        let l1 = accumulateGradients(of: p1) { whole.model.loss(hr: batch.hr, lr: batch.lr, using: &whole.noise) }.item
        let l2 = try halves.dataParallelGradients(batch, parameters: p2)
        #expect(abs(l1 - l2) <= 1e-5 * abs(l1), "loss \(l1) vs \(l2)")
        var diff = 0.0, norm = 0.0
        for (a, b) in zip(p1, p2) {
            for (x, y) in zip(a.gradient!.scalars, b.gradient!.scalars) { diff += Double(x - y) * Double(x - y); norm += Double(x) * Double(x) }
        }
        #expect((diff / norm).squareRoot() < 1e-5, "gradient relative difference \((diff / norm).squareRoot())")
        #expect(whole.noise.stateWords == halves.noise.stateWords)  // the same randomness drawn
        #expect(halves.config.yaml.contains("accumulate: 2") && !whole.config.yaml.contains("accumulate"))
        #expect(throws: ConfigError.self) { try tinyConfig(["optimizer.accumulate=3"]) }  // batch 2 is not a multiple of 3
        // Training with it runs and logs as usual.
        #expect(try halves.train(until: 2) == .finished(step: 2))
    }
}
