// Gradients through an ODE solution by the continuous adjoint method (Chen et al. 2018;
// torchdiffeq's `odeint_adjoint`, docs/design.md §5, §8). Forward: solve y from t0 to t1 without
// recording. Backward: integrate the augmented state (y, a = ∂L/∂y, ∂L/∂θ, ∂L/∂c) from t1
// back to t0 with the same adaptive solver and tolerances:
//   dy/dt = f(y, t),  da/dt = −aᵀ ∂f/∂y,  d(∂L/∂θ)/dt = −aᵀ ∂f/∂θ,  d(∂L/∂c)/dt = −aᵀ ∂f/∂c,
// where θ are module parameters and c an extra input of f (ECDP's LR features). Each
// evaluation records one network evaluation on a tape and releases it, so memory does
// not grow with the number of solver steps.
import Grad
import GradNN

public struct AdjointGradients {
    /// y(t1) from the forward solve.
    public var solution: Tensor
    /// ∂L/∂y(t0).
    public var initialState: Tensor
    /// ∂L/∂θ, in the order of the parameters given.
    public var parameters: [Tensor]
    /// ∂L/∂c for the extra input.
    public var extra: Tensor
    public var forwardEvaluations: Int
    public var backwardEvaluations: Int
}

public enum Adjoint {
    /// - Parameters:
    ///   - f: the dynamics f(y, t, c), built from `parameters` (read through `Parameter.value`).
    ///   - lossGradient: ∂L/∂y(t1) given y(t1).
    public static func gradients(
        of f: @escaping (Tensor, Double, Tensor) -> Tensor, parameters: [Parameter], extra: Tensor,
        y0: Tensor, t0: Double, t1: Double, solver: DormandPrince, lossGradient: (Tensor) -> Tensor
    ) throws -> AdjointGradients {
        let forward = try withoutDerivatives {
            try solver.integrate({ y, t in f(y, t, extra) }, from: y0, t0: t0, t1: t1, jumpTimes: [t1])
        }
        let y1 = forward.y
        let dLdy1 = lossGradient(y1)
        let n = y1.count, c = extra.count
        let paramCounts = parameters.map(\.value.count)
        let p = paramCounts.reduce(0, +)
        // The augmented state, flattened: [y | a | ∂L/∂θ (all parameters) | ∂L/∂c].
        let state0 = Tensor.concatenate([y1.reshaped([n]), dLdy1.reshaped([n]), Tensor.zeros([p]), Tensor.zeros([c])], axis: 0)
        let yShape = y0.shape, cShape = extra.shape
        let augmented: (Tensor, Double) -> Tensor = { s, t in
            let parts = s.split(sizes: [n, n, p, c], axis: 0)
            let y = parts[0].reshaped(yShape), a = parts[1].reshaped(yShape)
            let r = vjp(at: [y, extra], parameters: parameters, cotangent: a) { ins in f(ins[0], t, ins[1]) }
            let dParams = r.parameterGradients.map { $0.reshaped([$0.count]) }
            return Tensor.concatenate([r.value.reshaped([n]), -r.inputGradients[0].reshaped([n])]
                                      + dParams.map { -$0 } + [-r.inputGradients[1].reshaped([c])], axis: 0)
        }
        var backwardSolver = solver
        // torchdiffeq's adjoint norm: the largest RMS over y, a and each parameter's
        // gradient. Its backward solve keeps no jump time (the forward's end time is its
        // start), so it may step past t0 and interpolate there.
        backwardSolver.components = ([n, n] + paramCounts + [c]).filter { $0 > 0 }
        let backward = try backwardSolver.integrate(augmented, from: state0, t0: t1, t1: t0)
        let parts = backward.y.split(sizes: [n, n, p, c], axis: 0)
        return AdjointGradients(
            solution: y1, initialState: parts[1].reshaped(yShape),
            parameters: parts[2].split(sizes: paramCounts, axis: 0).enumerated().map { $1.reshaped(parameters[$0].shape) },
            extra: parts[3].reshaped(cShape),
            forwardEvaluations: forward.evaluations, backwardEvaluations: backward.evaluations)
    }
}
