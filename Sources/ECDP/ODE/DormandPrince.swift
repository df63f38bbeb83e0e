// Adaptive Dormand–Prince 5(4), step for step as torchdiffeq 0.2's `dopri5` (docs/sampling.md):
// - error estimate h·Σ (b_i − b̂_i)·k_i with Shampine's embedded weights b̂;
// - RMS norm of err / (atol + rtol·max(|y_old|, |y_new|)) (or a mixed norm, see
//   `components`), accept when ≤ 1, next step h·min(10, max(0.9·ratio^(−1/5), 1 if ratio < 1
//   else 0.2));
// - Hairer's starting step, FSAL;
// - steps are not shortened to end on t1: the solver may step past it and the solution at t1
//   is read from the step's quartic interpolant. A step that would cross a jump time is
//   shortened to end on it, and after such a step is accepted f is evaluated once more there
//   (counted). The official ECDP call passes its end time as the one jump time, so its last
//   step lands exactly on t1;
// - the times handed to f are rounded to Float, as torchdiffeq casts them to the state's
//   dtype, and a stage at the step's end is taken one ulp before it.
import Foundation
import Grad

public struct AdaptiveResult {
    public var y: Tensor
    public var evaluations: Int
    public var acceptedSteps: Int
    public var rejectedSteps: Int
    /// Every attempted step, in order (for tests against torchdiffeq's own sequence).
    public var steps: [AdaptiveStep] = []
}

/// One attempted step: start time, size (in the original time direction) and whether it was accepted.
public struct AdaptiveStep: Sendable, Equatable {
    public var t: Double
    public var h: Double
    public var accepted: Bool
}

public struct DormandPrince: Sendable {
    public var rtol: Double
    public var atol: Double
    /// Refuse to run away: more accepted + rejected steps than this is an error.
    public var maxSteps: Int
    /// For a state that concatenates several quantities (the adjoint's augmented state),
    /// their element counts: the error norm is then the maximum of the components' RMS
    /// norms (torchdiffeq's `_mixed_norm` for tuple states). nil: one RMS over all.
    public var components: [Int]?

    public init(rtol: Double = 1e-3, atol: Double = 1e-3, maxSteps: Int = 10_000, components: [Int]? = nil) {
        self.rtol = rtol
        self.atol = atol
        self.maxSteps = maxSteps
        self.components = components
    }

    /// The solver's norm of `values / scale` (see `components`), in Float as torchdiffeq
    /// computes it for a Float32 state: sqrt(mean(x²)). PyTorch sums a few values in Float
    /// in its four-partial-sum order (mirrored here below 16 values) and long vectors with a
    /// cascade about as accurate as the Double sum used here for them.
    func norm(_ values: [Float], _ scale: (Int) -> Float) -> Double {
        func rms(_ range: Range<Int>) -> Float {
            let squares = range.map { i -> Float in let v = values[i] / scale(i); return v * v }
            let sum = squares.count < 16 ? Self.shortSum(squares) : Float(squares.reduce(0.0) { $0 + Double($1) })
            return (sum / Float(max(range.count, 1))).squareRoot()
        }
        guard let components else { return Double(rms(values.indices)) }
        var worst: Float = 0, start = 0
        for n in components {
            worst = max(worst, rms(start..<(start + n)))
            start += n
        }
        return Double(worst)
    }

    /// PyTorch's sum of a short contiguous run: partial sums p_j = x_j for j < 4 (when
    /// there are at least 4 values), x_4 … added to p_0, then p_1, p_2, p_3 added to p_0.
    static func shortSum(_ x: [Float]) -> Float {
        guard x.count >= 4 else { return x.reduce(0, +) }
        var p0 = x[0]
        for v in x[4...] { p0 += v }
        return ((p0 + x[1]) + x[2]) + x[3]
    }

    static let c: [Double] = [0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1]
    static let a: [[Double]] = [
        [],
        [1.0 / 5],
        [3.0 / 40, 9.0 / 40],
        [44.0 / 45, -56.0 / 15, 32.0 / 9],
        [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
        [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
        [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
    ]
    /// 5th-order solution weights (the last stage row: FSAL).
    static let b: [Double] = [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0]
    /// Shampine's embedded 4th-order weights (torchdiffeq's `_DORMAND_PRINCE_SHAMPINE_TABLEAU`).
    /// The classic b* = [5179/57600, …, 1/40] gives an error estimate 3/2 times as large.
    static let bHat: [Double] = [1951.0 / 21600, 0, 22642.0 / 50085, 451.0 / 720, -12231.0 / 42400, 649.0 / 6300, 1.0 / 60]
    static let errorWeights = zip(b, bHat).map { $0 - $1 }
    /// Weights of the step's midpoint for the interpolant (Shampine 1986).
    static let mid: [Double] = [6025192743.0 / 30085553152 / 2, 0, 51252292925.0 / 65400821598 / 2,
                                -2691868925.0 / 45128329728 / 2, 187940372067.0 / 1594534317056 / 2,
                                -1776094331.0 / 19743644256 / 2, 11237099.0 / 235043384 / 2]

    /// A time handed to f one Float ulp before or after the exact one (torchdiffeq's `Perturb`).
    enum TimeNudge { case none, before, after }

    /// base + Σ_i k_i·(w_i·h) rounded as torchdiffeq and PyTorch round it for a Float32
    /// state: the coefficients w_i·h formed in Float, the sum over stages taken first, base
    /// added last. PyTorch sums a short last dimension of n values in four partial sums
    /// p_j = x_j (j < 4), adds x_4 … x_{n−1} to p_0, then p_1, p_2, p_3 to p_0. The error
    /// estimate is a small difference of large stages, so this order decides step sizes.
    static func combination(_ ks: [Tensor], _ weights: [Double], _ h: Double, plus base: Tensor? = nil) -> Tensor {
        let n = min(weights.count, ks.count)
        let terms: [Tensor?] = (0..<n).map { weights[$0] == 0 ? nil : ks[$0] * (Float(weights[$0]) * Float(h)) }
        var partial: [Tensor?] = Array(terms.prefix(n >= 4 ? 4 : n))
        func add(_ a: Tensor?, _ b: Tensor?) -> Tensor? { guard let a else { return b }; guard let b else { return a }; return a + b }
        if n < 4 { partial = [partial.dropFirst().reduce(partial[0], add)] }
        for i in stride(from: 4, to: n, by: 1) { partial[0] = add(partial[0], terms[i]) }
        let sum = partial.dropFirst().reduce(partial[0], add) ?? Tensor.zeros(ks[0].shape)
        return base.map { $0 + sum } ?? sum
    }

    /// Integrates dy/dt = f(y, t) from t0 to t1 (either direction). `jumpTimes` are times
    /// where f may be discontinuous (torchdiffeq's `jump_t`): no step crosses one.
    public func integrate(_ f: (Tensor, Double) -> Tensor, from y0: Tensor, t0: Double, t1: Double,
                          jumpTimes: [Double] = []) throws -> AdaptiveResult {
        // Integrate in s = direction·t so that s increases (torchdiffeq negates time the same way).
        let direction: Double = t1 >= t0 ? 1 : -1
        var nfe = 0
        func g(_ y: Tensor, _ s: Double, _ nudge: TimeNudge = .none) -> Tensor {
            nfe += 1
            var sf = Float(s)
            switch nudge {
            case .none: break
            case .before: sf = sf.nextDown
            case .after: sf = sf.nextUp
            }
            let v = f(y, direction * Double(sf))
            return direction == 1 ? v : -v
        }
        let s0 = direction * t0, s1 = direction * t1
        let jumps = jumpTimes.map { direction * $0 }.filter { $0 >= s0 }.sorted()
        var jumpIndex = min(jumps.firstIndex { $0 > s0 } ?? jumps.count, max(jumps.count - 1, 0))
        var y = y0, s = s0
        var k1 = g(y, s)
        var h = initialStep(g, y0: y, f0: k1, s0: s)
        var accepted = 0, rejected = 0
        var steps: [AdaptiveStep] = []
        // The last accepted step, for interpolating at s1 when a step went past it.
        var last: (y0: Tensor, s0: Double, h: Double, ks: [Tensor])?
        while s1 > s {
            guard accepted + rejected < maxSteps else {
                throw SolverError("Dormand–Prince gave up after \(maxSteps) steps (\(nfe) network evaluations) at t = \(direction * s) (rtol \(rtol), atol \(atol)); loosen the tolerance or raise the cap (rk45:TOL:MAX_NFE)")
            }
            var step = h, end = s + h
            var onJump = false
            if !jumps.isEmpty, s < jumps[jumpIndex], jumps[jumpIndex] < s + h {
                onJump = true
                end = jumps[jumpIndex]
                step = end - s
            }
            // Stage times as torchdiffeq forms them: in the state's precision.
            let sf = Float(s), hf = Float(step), ef = Float(end)
            var ks = [k1]
            for i in 1..<7 {
                let yi = Self.combination(ks, Self.a[i], step, plus: y)
                ks.append(Self.c[i] == 1 ? g(yi, Double(ef), .before) : g(yi, Double(sf + Float(Self.c[i]) * hf)))
            }
            let yNew = Self.combination(ks, Self.b, step, plus: y)
            let err = Self.combination(ks, Self.errorWeights, step)
            let yOld = y.scalars, yNext = yNew.scalars
            let (atolF, rtolF) = (Float(atol), Float(rtol))
            let ratio = norm(err.scalars) { i in atolF + rtolF * max(abs(yOld[i]), abs(yNext[i])) }
            let accept = ratio <= 1
            steps.append(AdaptiveStep(t: direction * s, h: direction * step, accepted: accept))
            if accept {
                accepted += 1
                last = (y, s, step, ks)
                y = yNew
                s = end
                k1 = ks[6]  // FSAL: f(y_new) is the last stage
                if onJump {
                    if jumpIndex < jumps.count - 1 { jumpIndex += 1 }
                    // torchdiffeq re-evaluates f just after a jump (the other side of it).
                    k1 = g(y, s, .after)
                }
            } else {
                rejected += 1
            }
            h = Self.nextStep(step, ratio: ratio)
        }
        if s != s1, let last {
            y = Self.interpolate(last.y0, y, ks: last.ks, h: last.h, at: (s1 - last.s0) / last.h)
        }
        return AdaptiveResult(y: y, evaluations: nfe, acceptedSteps: accepted, rejectedSteps: rejected, steps: steps)
    }

    /// The quartic through y0, y_mid and y1 with slopes k_1 and k_7 at the ends, at
    /// x ∈ [0, 1] of the step (torchdiffeq's `_interp_fit` / `_interp_evaluate`).
    static func interpolate(_ y0: Tensor, _ y1: Tensor, ks: [Tensor], h: Double, at x: Double) -> Tensor {
        let yMid = combination(ks, mid, h, plus: y0)
        let f0 = ks[0] * Float(h), f1 = ks[6] * Float(h)
        let a = (f1 - f0) * 2 - (y1 + y0) * 8 + yMid * 16
        let b = f0 * 5 - f1 * 3 + y0 * 18 + y1 * 14 - yMid * 32
        let c = f1 - f0 * 4 - y0 * 11 - y1 * 5 + yMid * 16
        let xf = Float(x)
        return y0 + f0 * xf + c * (xf * xf) + b * (xf * xf * xf) + a * (xf * xf * xf * xf)
    }

    /// torchdiffeq's `_optimal_step_size` with safety 0.9, ifactor 10, dfactor 0.2, order 5.
    static func nextStep(_ h: Double, ratio: Double) -> Double {
        if ratio == 0 { return h * 10 }
        let dfactor = ratio < 1 ? 1.0 : 0.2
        return h * min(10, max(0.9 / pow(ratio, 1.0 / 5), dfactor))
    }

    /// Hairer, Nørsett & Wanner's starting step (torchdiffeq `_select_initial_step`,
    /// order 4 for dopri5's error estimator).
    func initialStep(_ g: (Tensor, Double, TimeNudge) -> Tensor, y0: Tensor, f0: Tensor, s0: Double) -> Double {
        let y = y0.scalars, f = f0.scalars
        let scale = y.map { Float(atol) + abs($0) * Float(rtol) }
        // Float throughout, as torchdiffeq computes it from a Float32 state's norms.
        let d0 = Float(norm(y) { scale[$0] }), d1 = Float(norm(f) { scale[$0] })
        let h0: Float = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1
        let f1 = g(y0 + f0 * h0, s0 + Double(h0), .none).scalars
        let d2 = Float(norm(zip(f1, f).map { $0 - $1 }) { scale[$0] }) / h0
        // `0.01 / tensor` is PyTorch's reciprocal times 0.01; its Float `** 0.2` is the
        // Double power rounded to Float.
        let h1: Float = (d1 <= 1e-15 && d2 <= 1e-15) ? max(1e-6, h0 * 1e-3) 
            : Float(pow(Double((1 / max(d1, d2)) * 0.01), 1.0 / 5))
        return Double(min(100 * h0, h1))
    }
}
