// Finite-difference gradient checking.
//
// The checked loss is L(x) = ⟨f(x), r⟩ with a seeded random cotangent r (never a plain
// sum, whose all-ones cotangent hides transpose bugs). The analytic gradient comes from
// the tape; the numeric one from central differences (L(x + h·d) − L(x − h·d)) / 2h,
// with L accumulated in Double. Inputs of up to `elementwiseLimit` elements are checked
// one element at a time, larger ones along random directions d.
import Grad
import Testing

struct GradCheckResult {
    var maxAbsoluteError: Double = 0
    var maxRelativeError: Double = 0
}

/// ⟨a, b⟩ in Double.
func dot(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.shape == b.shape)
    let x = a.scalars, y = b.scalars
    var s = 0.0
    for i in x.indices { s += Double(x[i]) * Double(y[i]) }
    return s
}

/// Checks every input's gradient; fails the test when |analytic − numeric| exceeds
/// `absoluteTolerance + relativeTolerance · |numeric|` anywhere.
@discardableResult
func gradCheck(
    _ name: String, inputs: [Tensor], step h: Float = 1e-2,
    absoluteTolerance: Double = 2e-3, relativeTolerance: Double = 1e-2,
    elementwiseLimit: Int = 48, directions: Int = 4, seed: UInt64 = 7,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ f: @escaping ([Tensor]) -> Tensor
) -> GradCheckResult {
    var rng = RandomGenerator(seed: seed)
    let probe = withoutDerivatives { f(inputs) }
    let r = Tensor.randomNormal(probe.shape, using: &rng)
    let analytic = vjp(at: inputs, cotangent: r, of: f).gradients
    func loss(_ xs: [Tensor]) -> Double { dot(withoutDerivatives { f(xs) }, r) }
    func perturbed(_ i: Int, _ d: Tensor, _ s: Float) -> [Tensor] {
        var xs = inputs
        xs[i] = (inputs[i] + d * s).detached()
        return xs
    }
    var result = GradCheckResult()
    func compare(_ a: Double, _ n: Double, _ what: String) {
        let err = Swift.abs(a - n)
        result.maxAbsoluteError = max(result.maxAbsoluteError, err)
        result.maxRelativeError = max(result.maxRelativeError, err / max(Swift.abs(n), 1e-6))
        #expect(err <= absoluteTolerance + relativeTolerance * Swift.abs(n),
                "\(name) \(what): analytic \(a), numeric \(n)", sourceLocation: sourceLocation)
    }
    for (i, x) in inputs.enumerated() {
        if x.count <= elementwiseLimit {
            for e in 0..<x.count {
                var d = [Float](repeating: 0, count: x.count); d[e] = 1
                let dt = Tensor(d, shape: x.shape)
                let n = (loss(perturbed(i, dt, h)) - loss(perturbed(i, dt, -h))) / Double(2 * h)
                compare(Double(analytic[i].scalars[e]), n, "input \(i) element \(e)")
            }
        } else {
            for k in 0..<directions {
                let d = Tensor.randomNormal(x.shape, using: &rng)
                let n = (loss(perturbed(i, d, h)) - loss(perturbed(i, d, -h))) / Double(2 * h)
                compare(dot(analytic[i], d), n, "input \(i) direction \(k)")
            }
        }
    }
    return result
}

/// Seeded normal input.
func randn(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor.randomNormal(shape, std: scale, using: &rng)
}

/// Seeded input with every |x| ≥ margin, for checks of functions with kinks at 0.
func awayFromZero(_ shape: [Int], seed: UInt64, margin: Float = 0.2) -> Tensor {
    let x = randn(shape, seed: seed).scalars.map { $0 >= 0 ? $0 + margin : $0 - margin }
    return Tensor(x, shape: shape)
}
