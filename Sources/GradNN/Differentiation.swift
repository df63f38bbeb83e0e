// Gradients with respect to module parameters: parameters are swapped for tape-watched
// copies while the closure runs, then restored, so the tape dies with the step.
import Grad

/// Evaluates the scalar `loss` closure, and adds d loss/d p into each parameter's
/// `gradient`. Returns the loss value (untracked).
@discardableResult
public func accumulateGradients(of parameters: [Parameter], _ loss: () -> Tensor) -> Tensor {
    let r = vjp(at: [], parameters: parameters, cotangent: nil) { _ in loss() }
    for (p, g) in zip(parameters, r.parameterGradients) {
        if let old = p.gradient { p.gradient = old + g } else { p.gradient = g }
    }
    return r.value
}

/// The vector–Jacobian product of `f` with respect to both its inputs and `parameters`:
/// returns `f(inputs)` and `cotangentᵀ · ∂f/∂inputs`, `cotangentᵀ · ∂f/∂parameters`.
/// A nil cotangent means `f` is scalar and the seed is 1. This is the building block
/// of the adjoint method (docs/design.md §5).
public func vjp(at inputs: [Tensor], parameters: [Parameter], cotangent: Tensor?,
                of f: ([Tensor]) -> Tensor) -> (value: Tensor, inputGradients: [Tensor], parameterGradients: [Tensor]) {
    let tape = Tape()
    let saved = parameters.map(\.value)
    let watchedParams = parameters.map { tape.watch($0.value) }
    for (p, w) in zip(parameters, watchedParams) { p.value = w }
    defer { for (p, v) in zip(parameters, saved) { p.value = v } }
    let watchedInputs = inputs.map { tape.watch($0) }
    let y = f(watchedInputs)
    let seed = cotangent ?? {
        precondition(y.count == 1, "a nil cotangent needs a scalar output, got shape \(y.shape)")
        return Tensor(shape: y.shape, repeating: 1)
    }()
    let grads = tape.gradients(of: [y], seeds: [seed], wrt: watchedInputs + watchedParams)
    return (y.detached(), Array(grads[..<inputs.count]), Array(grads[inputs.count...]))
}
