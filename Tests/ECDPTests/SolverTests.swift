// Solvers on problems with known solutions: ODEs (orders of accuracy, adaptive
// tolerance), and diffusion samplers with the exact noise of a point-mass data
// distribution, for which the probability-flow trajectory is known in closed form.
@testable import ECDP
import Foundation
import Testing

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
            let r = try DormandPrince(rtol: tol, atol: tol).integrate(gaussian, from: y0, t0: 0, t1: 1.5)
            #expect(error(r.y, at: 1.5) < 20 * tol + 1e-6, "tol \(tol): error \(error(r.y, at: 1.5))")
            #expect(r.acceptedSteps > previous, "tighter tolerance takes more steps")
            #expect(r.evaluations == 1 + 1 + 6 * (r.acceptedSteps + r.rejectedSteps))  // f0, initial-step probe, 6 stages (FSAL)
            previous = r.acceptedSteps
        }
        // Backwards in time, landing exactly on the end point: y(0) from y(1).
        let y1 = y0 * Float(exp(-1.0))
        let back = try DormandPrince(rtol: 1e-6, atol: 1e-6).integrate(gaussian, from: y1, t0: 1, t1: 0)
        #expect(zip(back.y.scalars, y0.scalars).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test func stepSizeControllerFollowsTorchdiffeq() {
        #expect(DormandPrince.nextStep(1, ratio: 0, accepted: true) == 10)
        #expect(abs(DormandPrince.nextStep(1, ratio: 0.5, accepted: true) - min(10, 0.9 * pow(0.5, -0.2))) < 1e-12)
        #expect(DormandPrince.nextStep(1, ratio: 0.99, accepted: true) == 1)       // never shrinks on acceptance
        #expect(DormandPrince.nextStep(1, ratio: 1e6, accepted: false) == 0.2)     // shrinks at most 5×
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
        #expect(try Sampler.parse("ancestral").run(eps, sde: sde, xT: xT, using: &rng).evaluations == 296)
        #expect(try Sampler.parse("dpm3:10").run(eps, sde: sde, xT: xT, using: &rng).evaluations == 10)
    }

    @Test func solverSyntaxErrorsAreNamed() {
        for bad in ["rk4", "ddim:0", "dpm4:10", "ancestral:5", "rk45:-1", "magic:3"] {
            #expect(throws: SolverError.self, "\(bad)") { try Sampler.parse(bad) }
        }
    }
}
