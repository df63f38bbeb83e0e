// Explicit Runge–Kutta methods as Butcher tableaus; one stepper runs them all.
import Grad

public struct ButcherTableau: Sendable {
    public let name: String
    /// Lower-triangular stage coefficients a[i][j], j < i.
    public let a: [[Double]]
    public let b: [Double]
    public let c: [Double]
    /// Stage count.
    public var stages: Int { b.count }

    public static let euler = ButcherTableau(name: "euler", a: [[]], b: [1], c: [0])
    public static let heun = ButcherTableau(name: "heun", a: [[], [1]], b: [0.5, 0.5], c: [0, 1])
    public static let rk4 = ButcherTableau(name: "rk4", a: [[], [0.5], [0, 0.5], [0, 0, 1]],
                                           b: [1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6], c: [0, 0.5, 0.5, 1])

    public static func named(_ name: String) -> ButcherTableau? { [euler, heun, rk4].first { $0.name == name } }
}

public enum FixedStepSolver {
    /// Integrates dx/dt = f(x, t) from `t0` to `t1` in `steps` equal steps (t may
    /// decrease). Returns x(t1) and the number of evaluations of f.
    public static func integrate(_ f: (Tensor, Double) -> Tensor, from x0: Tensor, t0: Double, t1: Double,
                                 steps: Int, tableau: ButcherTableau) -> (x: Tensor, evaluations: Int) {
        precondition(steps >= 1, "at least one step")
        var x = x0
        let h = (t1 - t0) / Double(steps)
        var evaluations = 0
        for k in 0..<steps {
            let t = t0 + Double(k) * h
            var ks: [Tensor] = []
            for i in 0..<tableau.stages {
                var xi = x
                for (j, aij) in tableau.a[i].enumerated() where aij != 0 { xi = xi + ks[j] * Float(h * aij) }
                ks.append(f(xi, t + tableau.c[i] * h))
                evaluations += 1
            }
            for (i, bi) in tableau.b.enumerated() where bi != 0 { x = x + ks[i] * Float(h * bi) }
        }
        return (x, evaluations)
    }
}
