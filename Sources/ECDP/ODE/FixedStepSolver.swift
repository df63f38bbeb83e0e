// Fixed-step explicit Runge–Kutta integration with any `ButcherTableau`.
import Grad

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
