// Adaptive Dormand–Prince 5(4) with torchdiffeq's semantics (SPEC §12): RMS error norm of
// err / (atol + rtol·max(|y_old|, |y_new|)), accept when ≤ 1, next step
// h·min(10, max(0.9·ratio^(−1/5), 1 if accepted else 0.2)), Hairer's initial step, FSAL,
// and a forced step boundary at the end time (the official call's `jump_t`), so the last
// step lands exactly on t1.
import Foundation

public struct AdaptiveResult {
    public var y: Tensor
    public var evaluations: Int
    public var acceptedSteps: Int
    public var rejectedSteps: Int
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

    /// The solver's norm of `values / scale` (see `components`).
    func norm(_ values: [Float], _ scale: (Int) -> Double) -> Double {
        guard let components else { return Self.rms(values, scale) }
        var worst = 0.0, start = 0
        for n in components {
            var s = 0.0
            for i in start..<(start + n) { let v = Double(values[i]) / scale(i); s += v * v }
            worst = max(worst, (s / Double(max(n, 1))).squareRoot())
            start += n
        }
        return worst
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
    static let b: [Double] = [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0]
    static let bStar: [Double] = [5179.0 / 57600, 0, 7571.0 / 16695, 393.0 / 640, -92097.0 / 339200, 187.0 / 2100, 1.0 / 40]

    static func rms(_ values: [Float], _ scale: (Int) -> Double) -> Double {
        var s = 0.0
        for i in values.indices { let v = Double(values[i]) / scale(i); s += v * v }
        return (s / Double(max(values.count, 1))).squareRoot()
    }

    /// Integrates dy/dt = f(y, t) from t0 to t1 (either direction).
    public func integrate(_ f: (Tensor, Double) -> Tensor, from y0: Tensor, t0: Double, t1: Double) throws -> AdaptiveResult {
        // Integrate in s = direction·t so that s increases (torchdiffeq flips time the same way).
        let direction: Double = t1 >= t0 ? 1 : -1
        var nfe = 0
        func g(_ y: Tensor, _ s: Double) -> Tensor {
            nfe += 1
            let v = f(y, direction * s)
            return direction == 1 ? v : -v
        }
        let s0 = direction * t0, s1 = direction * t1
        var y = y0, s = s0
        var k1 = g(y, s)
        var h = initialStep(g, y0: y, f0: k1, s0: s)
        var accepted = 0, rejected = 0
        while s < s1 {
            guard accepted + rejected < maxSteps else {
                throw SolverError("Dormand–Prince gave up after \(maxSteps) steps at t = \(direction * s) (rtol \(rtol), atol \(atol))")
            }
            let lands = s + h >= s1
            let step = lands ? s1 - s : h
            var ks = [k1]
            for i in 1..<7 {
                var yi = y
                for (j, aij) in Self.a[i].enumerated() where aij != 0 { yi = yi + ks[j] * Float(step * aij) }
                ks.append(g(yi, s + Self.c[i] * step))
            }
            var yNew = y
            var err = Tensor.zeros(y.shape)
            for i in 0..<7 {
                if Self.b[i] != 0 { yNew = yNew + ks[i] * Float(step * Self.b[i]) }
                let e = Self.b[i] - Self.bStar[i]
                if e != 0 { err = err + ks[i] * Float(step * e) }
            }
            let yOld = y.scalars, yNext = yNew.scalars
            let ratio = norm(err.scalars) { i in self.atol + self.rtol * max(abs(Double(yOld[i])), abs(Double(yNext[i]))) }
            if ratio <= 1 {
                accepted += 1
                y = yNew
                s = lands ? s1 : s + step
                k1 = ks[6]  // FSAL: f(y_new) is the last stage
            } else {
                rejected += 1
            }
            h = Self.nextStep(step, ratio: ratio, accepted: ratio <= 1)
        }
        return AdaptiveResult(y: y, evaluations: nfe, acceptedSteps: accepted, rejectedSteps: rejected)
    }

    static func nextStep(_ h: Double, ratio: Double, accepted: Bool) -> Double {
        if ratio == 0 { return h * 10 }
        let dfactor = accepted ? 1.0 : 0.2
        return h * min(10, max(0.9 * pow(ratio, -1.0 / 5), dfactor))
    }

    /// Hairer, Nørsett & Wanner's starting step (torchdiffeq `_select_initial_step`,
    /// order 4 for dopri5's error estimator).
    func initialStep(_ g: (Tensor, Double) -> Tensor, y0: Tensor, f0: Tensor, s0: Double) -> Double {
        let y = y0.scalars, f = f0.scalars
        let scale = y.map { atol + rtol * abs(Double($0)) }
        let d0 = norm(y) { scale[$0] }, d1 = norm(f) { scale[$0] }
        let h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1
        let f1 = g(y0 + f0 * Float(h0), s0 + h0).scalars
        let d2 = norm(zip(f1, f).map { $0 - $1 }) { scale[$0] } / h0
        let h1 = (d1 <= 1e-15 && d2 <= 1e-15) ? max(1e-6, h0 * 1e-3) : pow(0.01 / max(d1, d2), 1.0 / 5)
        return min(100 * h0, h1)
    }
}

public struct SolverError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
