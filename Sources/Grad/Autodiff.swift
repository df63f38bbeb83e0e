// The public differentiation API: gradients and vector–Jacobian products of closures.

/// The value of `f` at `inputs` and its vector–Jacobian product with `cotangent`:
/// `(f(x), cotangentᵀ · ∂f/∂x)` for each input. This is the primitive the adjoint
/// method uses (GradNN's variant also differentiates with respect to parameters).
public func vjp(at inputs: [Tensor], cotangent: Tensor, of f: ([Tensor]) -> Tensor) -> (value: Tensor, gradients: [Tensor]) {
    let tape = Tape()
    let watched = inputs.map { tape.watch($0) }
    let y = f(watched)
    let grads = tape.gradients(of: [y], seeds: [cotangent], wrt: watched)
    return (y.detached(), grads)
}

/// The value of the scalar function `f` at `inputs` and its gradient with respect to each.
public func valueWithGradient(at inputs: [Tensor], of f: ([Tensor]) -> Tensor) -> (value: Tensor, gradients: [Tensor]) {
    let tape = Tape()
    let watched = inputs.map { tape.watch($0) }
    let y = f(watched)
    precondition(y.count == 1, "valueWithGradient needs a scalar output, got shape \(y.shape)")
    let grads = tape.gradients(of: [y], seeds: [Tensor(shape: y.shape, repeating: 1)], wrt: watched)
    return (y.detached(), grads)
}

/// The gradient of the scalar function `f` at `x`.
public func gradient(at x: Tensor, of f: (Tensor) -> Tensor) -> Tensor {
    valueWithGradient(at: [x]) { f($0[0]) }.gradients[0]
}

/// Runs `body` recording nothing, even on tracked tensors (sampling, evaluation).
public func withoutDerivatives<R>(_ body: () throws -> R) rethrows -> R {
    try Tape.withoutRecording(body)
}
