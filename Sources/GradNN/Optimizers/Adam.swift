// Adam with PyTorch's semantics (torch.optim.Adam, single-tensor path, no weight decay):
//   m ← m + (1−β1)(g − m);  v ← β2·v + (1−β2)·g²
//   p ← p − (lr/(1−β1ᵗ)) · m / (√v/√(1−β2ᵗ) + ε)
// with t counted per parameter and bias corrections computed in Double, as Python does.
import Foundation
import Grad
internal import GradKernels

/// A set of parameters sharing a learning rate (PyTorch's param_groups).
public struct ParameterGroup {
    public var name: String
    public var parameters: [(path: String, parameter: Parameter)]
    public var learningRate: Float

    public init(name: String, parameters: [(path: String, parameter: Parameter)], learningRate: Float) {
        self.name = name
        self.parameters = parameters
        self.learningRate = learningRate
    }
}

/// Adam's per-parameter state, keyed by parameter path; what a checkpoint saves.
public struct AdamState: Equatable {
    public var steps: [String: Int] = [:]
    public var firstMoments: [String: [Float]] = [:]
    public var secondMoments: [String: [Float]] = [:]
    public init() {}
}

public final class Adam {
    public var groups: [ParameterGroup]
    public let beta1: Float, beta2: Float, epsilon: Float
    public var state = AdamState()

    public init(groups: [ParameterGroup], beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        let paths = groups.flatMap { $0.parameters.map(\.path) }
        precondition(Set(paths).count == paths.count, "a parameter appears in more than one group")
        self.groups = groups
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
    }

    /// One update of every parameter that has a gradient. `learningRateFactor` scales
    /// each group's base rate (the schedule's factor).
    public func step(learningRateFactor: Float = 1) {
        for group in groups {
            let lr = Double(group.learningRate) * Double(learningRateFactor)
            for (path, p) in group.parameters {
                guard let g = p.gradient else { continue }
                precondition(g.shape == p.shape, "gradient shape \(g.shape) for parameter \(path) \(p.shape)")
                let t = (state.steps[path] ?? 0) + 1
                state.steps[path] = t
                // Taken out of the state while updated, so they are uniquely owned and
                // mutated in place (a copy of two parameter-sized arrays per step otherwise).
                var m = state.firstMoments.removeValue(forKey: path) ?? [Float](repeating: 0, count: g.count)
                var v = state.secondMoments.removeValue(forKey: path) ?? [Float](repeating: 0, count: g.count)
                let bc1 = 1 - Foundation.pow(Double(beta1), Double(t))
                let bc2 = 1 - Foundation.pow(Double(beta2), Double(t))
                let stepSize = Float(lr / bc1), bc2Sqrt = Float(bc2.squareRoot())
                // In place (copy-on-write only if someone else holds the old values).
                p.value.withUnsafeMutablePointer { pp in
                    g.withUnsafePointer { pg in
                        m.withUnsafeMutableBufferPointer { pm in
                            v.withUnsafeMutableBufferPointer { pv in
                                OptimizerUpdates.adam(parameter: pp, gradient: pg, firstMoment: pm.baseAddress!,
                                                      secondMoment: pv.baseAddress!, count: g.count,
                                                      beta1: beta1, beta2: beta2, epsilon: epsilon,
                                                      stepSize: stepSize, secondMomentCorrectionRoot: bc2Sqrt)
                            }
                        }
                    }
                }
                state.firstMoments[path] = m
                state.secondMoments[path] = v
            }
        }
    }

    /// Clears every parameter's gradient.
    public func zeroGradients() {
        for group in groups { for (_, p) in group.parameters { p.gradient = nil } }
    }
}
