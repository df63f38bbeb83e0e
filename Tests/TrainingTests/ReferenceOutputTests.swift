// The shipped model's outputs, recorded before the house-in-order refactor, as a guard that
// restructuring changes no behaviour: DDIM, DPM-Solver-2/3 and Dormand–Prince on one demo crop
// from a fixed x_T. Regenerate only for an intended change of behaviour:
//     ECDP_WRITE_REFERENCE_OUTPUTS=1 swift test --filter ReferenceOutputTests
import ECDP
import Foundation
import Grad
import TestSupport
import Testing
import Training

@Suite("Reference outputs")
struct ReferenceOutputTests {
    static let file = FixturePaths.fixtures.appendingPathComponent("reference_outputs.json")
    static let solvers = ["ddim:10", "dpm2:8", "dpm3:12", "rk45"]

    @Test func shippedModelOutputsAreUnchanged() throws {
        let (model, _) = try InferenceModel.load(checkpoint: FixturePaths.path("Checkpoints/pretrained/ecdp-small-demo.safetensors"))
        let data = try SRDataset(hrFolder: FixturePaths.path("Training/data/demo/test"), scale: 4)
        let (_, lr) = try data.crop(0, y: 96, x: 128, size: 32)
        let batch = lr.reshaped([1] + lr.shape)
        var rng = RandomGenerator(seed: 2026)
        let xT = Tensor.randomNormal([1, 3, 32, 32], using: &rng)
        var outputs: [String: [Float]] = [:], counts: [String: Int] = [:]
        for solver in Self.solvers {
            let (image, nfe) = try model.superResolve(batch, startingNoise: xT, sampler: try Sampler.parse(solver), using: &rng)
            outputs[solver] = image.scalars
            counts[solver] = nfe
        }
        if ProcessInfo.processInfo.environment["ECDP_WRITE_REFERENCE_OUTPUTS"] != nil {
            let json = try JSONSerialization.data(withJSONObject: ["outputs": outputs.mapValues { $0.map(Double.init) }, "nfe": counts],
                                                  options: [.sortedKeys])
            try json.write(to: Self.file)
            return
        }
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.file)) as! [String: Any]
        let reference = saved["outputs"] as! [String: [Double]], nfe = saved["nfe"] as! [String: Int]
        for solver in Self.solvers {
            let ours = outputs[solver]!, theirs = reference[solver]!
            #expect(counts[solver] == nfe[solver], "\(solver) evaluations")
            #expect(ours.count == theirs.count)
            // Bit-level equality holds on one machine; across CPUs (other BLAS kernels) values
            // move by rounding only.
            let worst = zip(ours, theirs).map { abs(Double($0) - $1) }.max() ?? .infinity
            #expect(worst < 1e-4, "\(solver): largest change \(worst)")
        }
    }
}
