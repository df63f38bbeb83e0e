// Every sampler behind one type, parsed from the CLI's `--solver` syntax. Samplers work
// on a noise estimator ε(x, t) (t on the network's 0…300 scale) and the SDE, so they
// are tested against analytic estimators as well as used with the network.
import Foundation
import Grad

/// ε_hyb(x_t, t): the noise estimate at network time t.
public typealias NoiseEstimator = (Tensor, Double) -> Tensor

public enum Sampler: Sendable, Equatable, CustomStringConvertible {
    /// Probability-flow ODE, adaptive Dormand–Prince 5(4), giving up (with an error) past
    /// `maxEvaluations` network evaluations.
    case dormandPrince(rtol: Double, atol: Double, maxEvaluations: Int = Sampler.defaultMaxEvaluations)
    /// Probability-flow ODE, fixed steps with a Runge–Kutta tableau (euler, heun, rk4).
    case rungeKutta(tableau: ButcherTableau, steps: Int)
    /// The 300-step ancestral (DDPM) sampler.
    case ancestral
    /// DDPM with N steps on the respaced 300-step grid (variance β̃).
    case respacedDDPM(steps: Int)
    /// DDIM (η = 0) with N steps on the 300-step grid.
    case ddim(steps: Int)
    /// DPM-Solver multistep of order 2 or 3 with N steps (noise prediction, steps
    /// uniform in log-SNR).
    case dpmSolver(order: Int, steps: Int)

    /// The tightest rk45 tolerance accepted.
    public static let toleranceFloor = 1e-7
    /// rk45's default cap on network evaluations: generous (the official settings need
    /// ~100–300), but a bound, so a pathological model or input cannot run for days.
    public static let defaultMaxEvaluations = 60_000

    /// "rk45", "rk45:1e-5", "rk45:1e-5:2000" (at most 2000 evaluations), "rk4:20", "heun:N", "euler:N", "ancestral", "ddpm:N", "ddim:N", "dpm2:N", "dpm3:N".
    public static func parse(_ text: String) throws -> Sampler {
        let parts = text.split(separator: ":").map(String.init)
        func steps() throws -> Int {
            guard parts.count == 2, let n = Int(parts[1]), n >= 1 else { throw SolverError("--solver \(text): expected \(parts[0]):N with N ≥ 1") }
            return n
        }
        switch parts[0] {
        case "rk45":
            if parts.count == 1 { return .dormandPrince(rtol: 1e-3, atol: 1e-3) }
            guard parts.count <= 3, let tol = Double(parts[1]), tol > 0, tol.isFinite else {
                throw SolverError("--solver \(text): expected rk45, rk45:TOL or rk45:TOL:MAX_NFE")
            }
            // fp32 carries ~7 digits: a tighter tolerance cannot be met and the solver
            // would shrink its steps until it gives up.
            guard tol >= Self.toleranceFloor else {
                throw SolverError("--solver \(text): tolerance below \(Self.toleranceFloor), which fp32 arithmetic cannot meet")
            }
            guard parts.count == 3 else { return .dormandPrince(rtol: tol, atol: tol) }
            guard let cap = Int(parts[2]), cap >= 7 else {
                throw SolverError("--solver \(text): MAX_NFE must be an integer of at least 7 (one Dormand–Prince step)")
            }
            return .dormandPrince(rtol: tol, atol: tol, maxEvaluations: cap)
        case "euler": return .rungeKutta(tableau: .euler, steps: try steps())
        case "heun": return .rungeKutta(tableau: .heun, steps: try steps())
        case "rk4": return .rungeKutta(tableau: .rk4, steps: try steps())
        case "ancestral":
            guard parts.count == 1 else { throw SolverError("--solver ancestral takes no step count (it is the 300-step sampler)") }
            return .ancestral
        case "ddim": return .ddim(steps: try steps())
        case "ddpm": return .respacedDDPM(steps: try steps())
        case "dpm2": return .dpmSolver(order: 2, steps: try steps())
        case "dpm3": return .dpmSolver(order: 3, steps: try steps())
        default:
            throw SolverError("--solver \(text): unknown solver; use rk45[:TOL[:MAX_NFE]], euler:N, heun:N, rk4:N, ancestral, ddpm:N, ddim:N, dpm2:N or dpm3:N")
        }
    }

    public var description: String {
        switch self {
        case let .dormandPrince(r, a, cap):
            return "rk45(rtol \(r), atol \(a)" + (cap == Self.defaultMaxEvaluations ? ")" : ", at most \(cap) NFE)")
        case let .rungeKutta(tableau, n): return "\(tableau.name):\(n)"
        case .ancestral: return "ancestral"
        case let .ddim(n): return "ddim:\(n)"
        case let .respacedDDPM(n): return "ddpm:\(n)"
        case let .dpmSolver(o, n): return "dpm\(o):\(n)"
        }
    }

    /// Whether the output depends only on x_T (the boundary-condition search needs this).
    public var isDeterministic: Bool {
        switch self {
        case .ancestral, .respacedDDPM: return false
        default: return true
        }
    }

    /// Network evaluations of one solve when the sampler fixes them; nil for the adaptive
    /// `rk45`, whose count depends on the solve.
    public var fixedEvaluations: Int? {
        switch self {
        case let .rungeKutta(tableau, steps): return steps * tableau.stages
        case let .ddim(steps), let .respacedDDPM(steps): return steps
        case let .dpmSolver(_, steps): return steps
        case .ancestral: return 295
        case .dormandPrince: return nil
        }
    }

    /// Runs from x_T to x_0 (the normalized residual). Returns x_0 and the number of
    /// noise-estimator evaluations.
    public func run(_ eps: NoiseEstimator, sde: MVPSDE, xT: Tensor, using rng: inout RandomGenerator,
                    endTime: Double = 0.1) throws -> (x0: Tensor, evaluations: Int) {
        let flow: (Tensor, Double) -> Tensor = { x, t in sde.probabilityFlowDrift(x: x, noise: eps(x, t), time: t) }
        switch self {
        case let .dormandPrince(rtol, atol, cap):
            // The official call passes its end time as a jump time: the last step lands on it.
            // A step costs 6 evaluations (the first one 7).
            let r = try DormandPrince(rtol: rtol, atol: atol, maxSteps: max(1, (cap - 1) / 6)).integrate(flow, from: xT, t0: sde.horizon, t1: endTime,
                                                                        jumpTimes: [endTime])
            return (r.y, r.evaluations)
        case let .rungeKutta(tableau, steps):
            let r = FixedStepSolver.integrate(flow, from: xT, t0: sde.horizon, t1: endTime, steps: steps,
                                              tableau: tableau)
            return (r.x, r.evaluations)
        case .ancestral:
            return DiscreteSamplers.ancestral(eps, sde: sde, xT: xT, using: &rng)
        case let .ddim(steps):
            return DiscreteSamplers.ddim(eps, sde: sde, xT: xT, steps: steps)
        case let .respacedDDPM(steps):
            return DiscreteSamplers.respacedDDPM(eps, sde: sde, xT: xT, steps: steps, using: &rng)
        case let .dpmSolver(order, steps):
            return DiscreteSamplers.dpmSolver(eps, sde: sde, xT: xT, order: order, steps: steps, endTime: endTime)
        }
    }
}
