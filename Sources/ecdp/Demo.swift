// `ecdp demo`: what `make demo` runs. For now a demonstration of the engine: a small
// conv net learns to turn nearest-neighbour ×2 upsampling into bicubic upsampling on
// random smooth images, with a progress bar, and reports how close it gets. The ECDP
// training and super-resolution demo replaces it once the model lands (issue #6).
import ArgumentParser
import Foundation
import GradKernels
import GradNN

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the demonstration job (currently: fit a small conv net with the Grad engine).")

    @OptionGroup var threadOptions: ThreadOptions
    @Option(help: "Training steps.") var steps = 300
    @Option(help: "Random seed.") var seed: UInt64 = 0

    func run() throws {
        threadOptions.apply()
        var rng = RandomGenerator(seed: seed)
        let net = Sequential([
            Conv2d(3, 32, kernelSize: 3, padding: 1, using: &rng), Activation(.silu),
            Conv2d(32, 32, kernelSize: 3, padding: 1, using: &rng), Activation(.silu),
            Conv2d(32, 3, kernelSize: 3, padding: 1, using: &rng),
        ])
        let params = net.parameters()
        let adam = Adam(groups: [ParameterGroup(name: "net", parameters: params, learningRate: 2e-3)])
        let schedule = WarmupStepSchedule(warmupSteps: 20)
        print("Grad engine demo: \(net.parameterCount) parameters, \(Parallel.maxThreads) threads")
        print("task: nearest ×2 upsampling → bicubic ×2 upsampling (PyTorch semantics) on random 16×16 images")

        func batch(_ rng: inout RandomGenerator) -> (input: Tensor, target: Tensor) {
            let low = Tensor.randomUniform([8, 3, 16, 16], using: &rng)
            return (low.upsampledNearest2x(), low.resized(height: 32, width: 32, mode: .bicubic))
        }
        var evalRng = RandomGenerator(seed: seed &+ 1)
        let held = batch(&evalRng)
        let baseline = mseLoss(held.input, held.target).item

        var bar = ProgressBar(total: steps, label: "train")
        let start = Date()
        var loss: Float = .nan
        for step in 0..<steps {
            let b = batch(&rng)
            adam.zeroGradients()
            loss = accumulateGradients(of: params.map(\.parameter)) { mseLoss(net(b.input), b.target) }.item
            guard loss.isFinite else { throw ValidationError("loss became \(loss) at step \(step)") }
            adam.step(learningRateFactor: schedule.factor(step: step, epoch: 0))
            bar.update(step + 1, fields: [("loss", String(format: "%.5f", loss))])
        }
        let seconds = Date().timeIntervalSince(start)
        let heldLoss = withoutDerivatives { mseLoss(net(held.input), held.target).item }
        print(String(format: "done in %.1f s (%.1f ms/step)", seconds, seconds * 1000 / Double(steps)))
        print(String(format: "held-out MSE: nearest-neighbour input %.5f → network %.5f (%.1f× lower)",
                     baseline, heldLoss, baseline / heldLoss))
    }
}
