// Exponential moving average of weights: avg ← (1 − 1/N)·avg + (1/N)·p after each
// optimizer step, initialised to the weights (docs/design.md §8).
import Grad
internal import GradKernels

public final class ExponentialMovingAverage {
    /// The averaged values by parameter path.
    public private(set) var averages: [String: Tensor]
    public let decay: Float

    /// Tracks `parameters` with decay 1 − 1/`horizon`.
    public init(parameters: [(path: String, parameter: Parameter)], horizon: Float) {
        precondition(horizon >= 1, "EMA horizon must be ≥ 1")
        decay = 1 - 1 / horizon
        averages = Dictionary(uniqueKeysWithValues: parameters.map { ($0.path, $0.parameter.value.detached()) })
    }

    /// Restores saved averages (from a checkpoint).
    public init(averages: [String: Tensor], decay: Float) {
        self.averages = averages
        self.decay = decay
    }

    public func update(from parameters: [(path: String, parameter: Parameter)]) {
        for (path, p) in parameters {
            precondition(averages[path] != nil, "EMA has no average for \(path)")
            let value = p.value
            averages[path]!.withUnsafeMutablePointer { pa in
                value.withUnsafePointer { pp in
                    OptimizerUpdates.movingAverage(pa, toward: pp, count: value.count, decay: decay)
                }
            }
        }
    }
}
