// ODE solvers on problems with known solutions (orders of accuracy, adaptive tolerance) and
// Dormand–Prince against torchdiffeq step for step. The diffusion samplers on a data
// distribution with a closed-form flow: GaussianTargetTests.
@testable import ECDP
import Foundation
import Grad
import TestSupport
import Testing

@Suite("Solvers")
struct SolverTests {
    /// y' = −2t·y, y(0) = y0 → y(t) = y0·exp(−t²).
    let gaussian: (Tensor, Double) -> Tensor = { y, t in y * Float(-2 * t) }
    let y0 = Tensor([1, -0.5, 2], shape: [3])

    func error(_ y: Tensor, at t: Double) -> Double {
        zip(y.scalars, y0.scalars).map { abs(Double($0) - Double($1) * exp(-t * t)) }.max()!
    }

    @Test(arguments: [(ButcherTableau.euler, 1.0), (.heun, 2.0), (.rk4, 4.0)])
    func fixedStepOrder(tableau: ButcherTableau, order: Double) {
        let method = tableau.name
        let coarse = error(FixedStepSolver.integrate(gaussian, from: y0, t0: 0, t1: 1, steps: 8, tableau: tableau).x, at: 1)
        let fine = error(FixedStepSolver.integrate(gaussian, from: y0, t0: 0, t1: 1, steps: 16, tableau: tableau).x, at: 1)
        let observed = log2(coarse / fine)
        #expect(abs(observed - order) < 0.35, "\(method): observed order \(observed) (errors \(coarse) → \(fine))")
    }

    @Test func dormandPrinceMeetsItsTolerance() throws {
        var previous = 0
        for tol in [1e-3, 1e-5, 1e-7] {
            // f0, the initial-step probe, 6 stages a step (FSAL), one more after landing on the jump time.
            let r = try DormandPrince(rtol: tol, atol: tol).integrate(gaussian, from: y0, t0: 0, t1: 1.5, jumpTimes: [1.5])
            #expect(error(r.y, at: 1.5) < 20 * tol + 1e-6, "tol \(tol): error \(error(r.y, at: 1.5))")
            #expect(r.evaluations == 1 + 1 + 6 * (r.acceptedSteps + r.rejectedSteps) + 1)
            #expect(r.acceptedSteps > previous, "tighter tolerance takes more steps")
            previous = r.acceptedSteps
        }
        // Backwards in time, landing exactly on the end point: y(0) from y(1).
        let y1 = y0 * Float(exp(-1.0))
        let back = try DormandPrince(rtol: 1e-6, atol: 1e-6).integrate(gaussian, from: y1, t0: 1, t1: 0)
        #expect(zip(back.y.scalars, y0.scalars).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test func stepSizeControllerFollowsTorchdiffeq() {
        #expect(DormandPrince.nextStep(1, ratio: 0) == 10)
        #expect(abs(DormandPrince.nextStep(1, ratio: 0.5) - min(10, 0.9 * pow(0.5, -0.2))) < 1e-12)
        #expect(DormandPrince.nextStep(1, ratio: 0.99) == 1)       // never shrinks on acceptance
        #expect(DormandPrince.nextStep(1, ratio: 1e6) == 0.2)      // shrinks at most 5×
    }

    /// Step for step against torchdiffeq's own `dopri5` (Tests/Fixtures/generate_solver_fixtures.py):
    /// the same attempted steps (start, size, accepted), the same number of function
    /// evaluations, the same end value — with and without a jump time at the end.
    @Test func dormandPrinceMatchesTorchdiffeqStepForStep() throws {
        let data = try Data(contentsOf: FixturePaths.fixtures.appendingPathComponent("solver_reference.json"))
        let cases = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["cases"] as! [String: [String: Any]]
        #expect(cases.count == 6)
        let k: [Float] = [30, 60, 120]
        let rhs: [String: (Tensor, Double) -> Tensor] = [
            "gaussian": { y, t in y * Float(-2 * t) },
            "relaxation": { y, t in
                let tf = Float(t)
                return Tensor(zip(y.scalars, k).map { -$1 * ($0 - tf * (1 - tf)) }, shape: y.shape)
            },
        ]
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            let y0 = (c["y0"] as! [Double]).map(Float.init)
            let t0 = c["t0"] as! Double, t1 = c["t1"] as! Double, tol = c["tol"] as! Double
            let r = try DormandPrince(rtol: tol, atol: tol).integrate(rhs[c["rhs"] as! String]!, from: Tensor(y0, shape: [y0.count]),
                                                                      t0: t0, t1: t1, jumpTimes: (c["jump"] as! Bool) ? [t1] : [])
            let expected = c["steps"] as! [[Any]]
            #expect(r.steps.count == expected.count, "\(name): \(r.steps.count) steps, torchdiffeq \(expected.count)")
            for (ours, theirs) in zip(r.steps, expected) {
                let (t, h, ok) = (theirs[0] as! Double, theirs[1] as! Double, theirs[2] as! Bool)
                // Accept/reject decisions exactly; times and sizes to 1e-3: both sides round in
                // Float32, and the order of a few PyTorch reductions is not reproduced bit for bit.
                #expect(ours.accepted == ok && abs(ours.t - t) < 1e-3 * max(1, abs(t)) && abs(abs(ours.h) - h) < 1e-3 * h,
                        "\(name): step \(ours) vs torchdiffeq (\(t), \(h), \(ok))")
            }
            #expect(r.evaluations == c["nfe"] as! Int, "\(name): nfe \(r.evaluations) vs \(c["nfe"]!)")
            let y1 = (c["y1"] as! [Double]).map(Float.init)
            #expect(zip(r.y.scalars, y1).allSatisfy { abs($0 - $1) < 1e-5 * max(1, abs($1)) }, "\(name): \(r.y.scalars) vs \(y1)")
        }
    }

    @Test func solverSyntaxErrorsAreNamed() {
        for bad in ["rk4", "ddim:0", "dpm4:10", "ancestral:5", "rk45:-1", "rk45:1e-12", "rk45:nan", "rk45:1e-3:3", "rk45:1e-3:x", "rk45:1e-3:9:9", "magic:3"] {
            #expect(throws: SolverError.self, "\(bad)") { try Sampler.parse(bad) }
        }
    }
}
