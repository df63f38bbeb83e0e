// Solvers on problems with known solutions: ODEs (orders of accuracy, adaptive
// tolerance), and diffusion samplers with the exact noise of a point-mass data
// distribution, for which the probability-flow trajectory is known in closed form.
@testable import ECDP
import Foundation
import Testing
import TestSupport

@Suite("Solvers")
struct SolverTests {
    /// y' = −2t·y, y(0) = y0 → y(t) = y0·exp(−t²).
    let gaussian: (Tensor, Double) -> Tensor = { y, t in y * Float(-2 * t) }
    let y0 = Tensor([1, -0.5, 2], shape: [3])

    func error(_ y: Tensor, at t: Double) -> Double {
        zip(y.scalars, y0.scalars).map { abs(Double($0) - Double($1) * exp(-t * t)) }.max()!
    }

    @Test(arguments: [("euler", 1.0), ("heun", 2.0), ("rk4", 4.0)])
    func fixedStepOrder(method: String, order: Double) {
        let tableau = ButcherTableau.named(method)!
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

    /// A point mass at x0*: ε(x, t) = (x − √ᾱ x0*)/√(1 − ᾱ) exactly, and the flow from
    /// x_T stays on x(t) = √ᾱ(t) x0* + √(1 − ᾱ(t)) c with c fixed by x_T.
    @Test func samplersRecoverAPointMass() throws {
        let sde = MVPSDE()
        var rng = RandomGenerator(seed: 9)
        let target = Tensor.randomNormal([1, 3, 4, 4], using: &rng)
        let xT = Tensor.randomNormal([1, 3, 4, 4], using: &rng)
        let eps: NoiseEstimator = { x, t in
            let a = sde.alphaBar(t)
            return (x - target * Float(a.squareRoot())) * Float(1 / (1 - a).squareRoot())
        }
        let c = (xT - target * Float(sde.alphaBar(300).squareRoot())) * Float(1 / (1 - sde.alphaBar(300)).squareRoot())
        let end = 0.1
        let atEnd = target * Float(sde.alphaBar(end).squareRoot()) + c * Float((1 - sde.alphaBar(end)).squareRoot())
        func gap(_ a: Tensor, _ b: Tensor) -> Float { zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()! }
        // The flow is stiff near t → 0 (its coefficient grows like 1/√(1 − ᾱ)): fixed
        // steps uniform in t converge slowly there, the adaptive solver and the
        // exponential integrators (DPM-Solver, DDIM) do not care.
        for (text, reference, tolerance) in [("rk45", atEnd, Float(1e-2)), ("rk45:1e-5", atEnd, 1e-4), ("dpm2:10", atEnd, 1e-4),
                                             ("dpm3:10", atEnd, 1e-4), ("ddim:20", target, 1e-4), ("ddim:300", target, 1e-3),
                                             ("ancestral", target, 1e-3)] {
            let sampler = try Sampler.parse(text)
            let (x0, nfe) = try sampler.run(eps, sde: sde, xT: xT, using: &rng)
            #expect(gap(x0, reference) < tolerance, "\(text): gap \(gap(x0, reference)) with \(nfe) evaluations")
        }
        #expect(try Sampler.parse("ddim:50").run(eps, sde: sde, xT: xT, using: &rng).evaluations == 50)
        // The official loop: ancestral steps at 299 … 6, the x0 projection at 5.
        #expect(try Sampler.parse("ancestral").run(eps, sde: sde, xT: xT, using: &rng).evaluations == 295)
        #expect(try Sampler.parse("dpm3:10").run(eps, sde: sde, xT: xT, using: &rng).evaluations == 10)
    }

    @Test func solverSyntaxErrorsAreNamed() {
        for bad in ["rk4", "ddim:0", "dpm4:10", "ancestral:5", "rk45:-1", "magic:3"] {
            #expect(throws: SolverError.self, "\(bad)") { try Sampler.parse(bad) }
        }
    }
}
