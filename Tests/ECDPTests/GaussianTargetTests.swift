// Every sampler on a data distribution whose probability flow is known in closed form:
// x0 ~ N(μ, diag(s²)) with several variances. Under the VP SDE x_t ~ N(√ᾱ μ, v(t)),
// v = ᾱ s² + 1 − ᾱ, the exact noise prediction is ε*(x, t) = √(1 − ᾱ)(x − √ᾱ μ)/v, and the
// probability-flow ODE maps x(t0) to x(t) = √ᾱ(t) μ + √(v(t)/v(t0)) (x(t0) − √ᾱ(t0) μ).
// Unlike a point mass, ε* changes along the path and the last x0 projection does not hide
// the path taken, so intermediate updates and higher-order corrections are exercised.
@testable import ECDP
import Foundation
import Grad
import TestSupport
import Testing

struct GaussianTarget: Sendable {
    let sde = MVPSDE()
    /// Mean and standard deviation of element i are mu[i % n], s[i % n] (n = 48): any batch works.
    let mu: [Double], s: [Double]
    let shape = [1, 3, 4, 4]

    init(seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        mu = Tensor.randomNormal(shape, using: &rng).scalars.map(Double.init)
        // Standard deviations from 0.1 to 2, eight of each.
        s = (0..<mu.count).map { [0.1, 0.3, 0.7, 1.0, 1.5, 2.0][$0 % 6] }
    }

    init(mu: [Double], s: [Double]) {
        precondition(mu.count == 48 && s.count == 48)
        self.mu = mu
        self.s = s
    }

    /// Var x_t of element i.
    func v(_ t: Double, _ i: Int) -> Double {
        let a = t == 0 ? 1 : sde.alphaBar(t), sd = s[i % s.count]
        return a * sd * sd + 1 - a
    }

    var eps: NoiseEstimator {
        // Broadcast over any batch [N, 3, 4, 4] with tensor ops (fast in debug builds too).
        let muT = Tensor(mu.map(Float.init), shape: shape), s2 = s.map { $0 * $0 }
        return { [sde] x, t in
            let a = sde.alphaBar(t)
            let inverseV = Tensor(s2.map { Float(1 / (a * $0 + 1 - a)) }, shape: [1, 3, 4, 4])
            return (x - muT * Float(a.squareRoot())) * inverseV * Float((1 - a).squareRoot())
        }
    }

    /// The exact flow from x at t0 to t1 (t1 = 0 gives the data sample).
    func flow(_ x: Tensor, from t0: Double, to t1: Double) -> Tensor {
        let (a0, a1) = (sde.alphaBar(t0), t1 == 0 ? 1 : sde.alphaBar(t1))
        return Tensor(x.scalars.enumerated().map { i, x in
            let m = mu[i % mu.count]
            return Float(a1.squareRoot() * m + (v(t1, i) / v(t0, i)).squareRoot() * (Double(x) - a0.squareRoot() * m))
        }, shape: x.shape)
    }
}

func maxAbs(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.shape == b.shape && a.count > 0, "compare tensors of one non-empty shape: \(a.shape) vs \(b.shape)")
    return zip(a.scalars, b.scalars).map { Double(abs($0 - $1)) }.max()!
}

@Suite("Samplers on a Gaussian target")
struct GaussianTargetTests {
    let target = GaussianTarget(seed: 31)

    func xT(_ seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor.randomNormal(target.shape, using: &rng)
    }

    func error(_ solver: String, endTime: Double = 0.1, xT: Tensor) throws -> Double {
        var rng = RandomGenerator(seed: 0)
        let (x, _) = try Sampler.parse(solver).run(target.eps, sde: target.sde, xT: xT, using: &rng, endTime: endTime)
        return maxAbs(x, target.flow(xT, from: 300, to: endTime))
    }

    /// The ancestral sampler's output distribution, element by element, in exact arithmetic:
    /// with ε* affine in x every step x ← (x − β_i/√(1 − ᾱ_i)·ε*)/√α_i + √β_i·z is affine plus
    /// Gaussian noise (the official loop injects variance β_i, not β̃_i), so mean and variance
    /// propagate exactly from x_T ~ N(0, 1), through the projection at index 5.
    func ancestralMoments(_ i: Int) -> (mean: Double, variance: Double) {
        let sde = target.sde, m = target.mu[i], sd = target.s[i]
        let abar = (1...300).map { sde.alphaBar(Double($0)) }
        var mean = 0.0, variance = 1.0
        func epsCoefficients(_ k: Int) -> (slope: Double, offset: Double) {  // ε* = slope·x + offset at grid index k
            let a = abar[k], v = a * sd * sd + 1 - a
            return ((1 - a).squareRoot() / v, -(1 - a).squareRoot() * a.squareRoot() * m / v)
        }
        for k in stride(from: 299, to: 5, by: -1) {
            let alpha = abar[k] / abar[k - 1], beta = 1 - alpha
            let (e1, e0) = epsCoefficients(k), c = beta / (1 - abar[k]).squareRoot()
            let slope = (1 - c * e1) / alpha.squareRoot(), offset = -c * e0 / alpha.squareRoot()
            (mean, variance) = (slope * mean + offset, slope * slope * variance + beta)
        }
        let (e1, e0) = epsCoefficients(5), r = (1 - abar[5]).squareRoot()
        let slope = (1 - r * e1) / abar[5].squareRoot(), offset = -r * e0 / abar[5].squareRoot()
        return (slope * mean + offset, slope * slope * variance)
    }

    /// Observed order log2(e(N)/e(2N)) of a sampler's error against the exact flow.
    func observedOrder(_ solver: String, _ n: Int, xT: Tensor) throws -> (order: Double, coarse: Double, fine: Double) {
        let (coarse, fine) = (try error("\(solver):\(n)", xT: xT), try error("\(solver):\(2 * n)", xT: xT))
        return (log2(coarse / fine), coarse, fine)
    }

    /// Each fixed-step and multistep sampler converges to the exact flow at its order. The
    /// step counts are where the error is in its asymptotic range and well above Float32
    /// rounding (~1e-5 here); the tolerance ±0.3 on the order is what separates order p from
    /// p ± 1 with a margin for the pre-asymptotic remainder.
    @Test(arguments: [("euler", 64, 1.0), ("heun", 64, 2.0), ("rk4", 32, 4.0), ("dpm2", 32, 2.0)])
    func samplersConvergeAtTheirOrder(solver: String, steps: Int, order: Double) throws {
        let r = try observedOrder(solver, steps, xT: xT(1))
        #expect(abs(r.order - order) < 0.3, "\(solver): observed order \(r.order) (errors \(r.coarse) → \(r.fine))")
    }

    /// DPM-Solver-3M starts with a first-order and a second-order step (as the reference does),
    /// whose local errors O(h²), O(h³) bound its global order by 2; its third-order steps show
    /// as a smaller constant: 2.5× below 2M's error or better from 32 steps on (2.7–3× measured).
    @Test func dpmSolver3MIsAtLeastSecondOrderAndBeats2M() throws {
        let x = xT(1)
        let r = try observedOrder("dpm3", 32, xT: x)
        #expect(r.order > 1.7, "dpm3: observed order \(r.order)")
        for n in [32, 64, 128] {
            let (e2, e3) = (try error("dpm2:\(n)", xT: x), try error("dpm3:\(n)", xT: x))
            #expect(e3 < e2 / 2.5, "\(n) steps: dpm3 \(e3), dpm2 \(e2)")
        }
    }

    /// DDIM (η = 0) is the first-order exponential integrator: on its grid (network time =
    /// index + 1, the first visited index standing for x_T) it converges at order 1 to the exact
    /// flow from its first grid time down to the data (ᾱ = 1).
    @Test func ddimConvergesAtOrderOneToTheExactFlow() throws {
        let x = xT(1)
        func ddimError(_ n: Int) throws -> Double {
            var rng = RandomGenerator(seed: 0)
            let start = Double((n - 1) * 300 / n + 1)
            let (out, nfe) = try Sampler.parse("ddim:\(n)").run(target.eps, sde: target.sde, xT: x, using: &rng)
            #expect(nfe == n)
            return maxAbs(out, target.flow(x, from: start, to: 0))
        }
        let (e1, e2) = (try ddimError(40), try ddimError(80))
        #expect(abs(log2(e1 / e2) - 1) < 0.3, "ddim: observed order \(log2(e1 / e2)) (errors \(e1) → \(e2))")
        #expect(try ddimError(300) < e2)
    }

    /// rk45:TOL:MAX_NFE stops with an error naming the cap instead of running on.
    @Test func dormandPrinceStopsAtItsEvaluationCap() throws {
        #expect(try Sampler.parse("rk45:1e-4:500") == .dormandPrince(rtol: 1e-4, atol: 1e-4, maxEvaluations: 500))
        #expect(try Sampler.parse("rk45:1e-4") == .dormandPrince(rtol: 1e-4, atol: 1e-4, maxEvaluations: Sampler.defaultMaxEvaluations))
        do {
            _ = try error("rk45:1e-6:25", xT: xT(1))
            Issue.record("the cap did not stop the solve")
        } catch let e as SolverError {
            #expect("\(e)".contains("gave up after 4 steps") && "\(e)".contains("rk45:TOL:MAX_NFE"), "\(e)")
        }
    }

    /// Dormand–Prince's global error follows its tolerance.
    @Test func dormandPrinceErrorFollowsTheTolerance() throws {
        let x = xT(1)
        var previous = Double.infinity
        for tol in [1e-3, 1e-4, 1e-5] {
            let e = try error("rk45:\(tol)", xT: x)
            #expect(e < 20 * tol && e < previous, "rk45:\(tol): error \(e)")
            previous = e
        }
    }

    /// DPM-Solver 2M/3M against the reference implementation (LuChengTHU/dpm-solver, the commit
    /// in the fixture) on the same analytic model: every intermediate state, for step counts
    /// below and above its lower-order-final threshold (Tests/Fixtures/generate_dpm_solver_fixtures.py).
    @Test func dpmSolverMatchesTheReferenceImplementation() throws {
        let data = try Data(contentsOf: FixturePaths.fixtures.appendingPathComponent("dpm_solver_reference.json"))
        let ref = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let reference = GaussianTarget(mu: ref["mu"] as! [Double], s: ref["s"] as! [Double])
        let xT = Tensor((ref["x_T"] as! [Double]).map(Float.init), shape: [1, 3, 4, 4])
        let runs = ref["runs"] as! [[String: Any]]
        #expect(runs.count == 6)
        for run in runs {
            let order = run["order"] as! Int, steps = run["steps"] as! Int
            let states = (run["states"] as! [[Double]]).map { Tensor($0.map(Float.init), shape: [1, 3, 4, 4]) }
            var ours: [Tensor] = [xT]
            let (_, nfe) = DiscreteSamplers.dpmSolver(reference.eps, sde: reference.sde, xT: xT, order: order, steps: steps,
                                                      endTime: 0.1) { _, x in ours.append(x) }
            #expect(nfe == steps && ours.count == states.count, "order \(order), \(steps) steps")
            for (k, (a, b)) in zip(ours, states).enumerated() {
                // Our Float32 states against the reference's Float64 ones (worst seen: 6.7e-6).
                #expect(maxAbs(a, b) < 1e-5 * max(1, Double(b.scalars.map(abs).max()!)), "order \(order), \(steps) steps, state \(k): \(maxAbs(a, b))")
            }
        }
    }

    /// The ancestral sampler step by step against the official loop (`Diffusion.generate`,
    /// ancestral branch), replaying the same noise draws: for t = 299 … 6,
    /// x ← (x − (1 − α_t)/√(1 − ᾱ_t)·ε)/√α_t + √β_t·z, then x ← (x − √(1 − ᾱ_5)·ε)/√ᾱ_5, ε at
    /// network time t + 1.
    @Test func ancestralFollowsTheOfficialLoopStepByStep() throws {
        var rng = RandomGenerator(seed: 8)
        let x0 = Tensor.randomNormal([2, 3, 4, 4], using: &rng)
        var ours = rng, replay = rng
        let (out, _) = try Sampler.ancestral.run(target.eps, sde: target.sde, xT: x0, using: &ours)
        let abar = (1...300).map { target.sde.alphaBar(Double($0)) }
        var x = x0.scalars.map(Double.init)
        for t in stride(from: 299, through: 5, by: -1) {
            let e = target.eps(Tensor(x.map(Float.init), shape: x0.shape), Double(t + 1)).scalars.map(Double.init)
            if t == 5 {
                x = zip(x, e).map { ($0 - (1 - abar[t]).squareRoot() * $1) / abar[t].squareRoot() }
            } else {
                let alpha = abar[t] / abar[t - 1], z = Tensor.randomNormal(x0.shape, using: &replay).scalars
                x = zip(zip(x, e), z).map { xe, z in
                    (xe.0 - (1 - alpha) / (1 - abar[t]).squareRoot() * xe.1) / alpha.squareRoot() + (1 - alpha).squareRoot() * Double(z)
                }
            }
        }
        #expect(maxAbs(out, Tensor(x.map(Float.init), shape: x0.shape)) < 1e-4)
    }

    @Test func ancestralHasTheExactChainsDistribution() throws {
        // 8,192 samples of each of the 48 elements (six standard deviations, 0.1 to 2).
        var rng = RandomGenerator(seed: 5)
        let xT = Tensor.randomNormal([8192, 3, 4, 4], using: &rng)
        let (x, nfe) = try Sampler.ancestral.run(target.eps, sde: target.sde, xT: xT, using: &rng)
        #expect(nfe == 295)
        expectMoments(of: x, exact: ancestralMoments, label: "ancestral")
    }

    /// Mean and variance of element i after the respaced DDPM chain with `steps` steps (all
    /// maps are affine in x for the Gaussian target, so the moments follow exactly).
    func respacedMoments(_ i: Int, steps: Int) -> (mean: Double, variance: Double) {
        let sde = target.sde, m = target.mu[i], sd = target.s[i]
        let abar = (1...300).map { sde.alphaBar(Double($0)) }
        let idx = (0..<steps).map { $0 * 300 / steps }
        func epsCoefficients(_ k: Int) -> (slope: Double, offset: Double) {
            let a = abar[k], v = a * sd * sd + 1 - a
            return ((1 - a).squareRoot() / v, -(1 - a).squareRoot() * a.squareRoot() * m / v)
        }
        var mean = 0.0, variance = 1.0
        for k in stride(from: steps - 1, through: 1, by: -1) {
            let (a, prev) = (abar[idx[k]], abar[idx[k - 1]])
            let alpha = a / prev, beta = 1 - alpha, tilde = (1 - prev) / (1 - a) * beta
            let (e1, e0) = epsCoefficients(idx[k]), c = beta / (1 - a).squareRoot()
            let slope = (1 - c * e1) / alpha.squareRoot(), offset = -c * e0 / alpha.squareRoot()
            (mean, variance) = (slope * mean + offset, slope * slope * variance + tilde)
        }
        let (e1, e0) = epsCoefficients(idx[0]), r = (1 - abar[idx[0]]).squareRoot()
        let slope = (1 - r * e1) / abar[idx[0]].squareRoot(), offset = -r * e0 / abar[idx[0]].squareRoot()
        return (slope * mean + offset, slope * slope * variance)
    }

    /// Respaced DDPM has its exact chain's distribution (β̃ variances, projection at index 0)
    /// at 20 and 100 steps.
    @Test(arguments: [20, 100])
    func respacedDDPMHasTheExactChainsDistribution(steps: Int) throws {
        var rng = RandomGenerator(seed: 15)
        let xT = Tensor.randomNormal([8192, 3, 4, 4], using: &rng)
        let sampler = try Sampler.parse("ddpm:\(steps)")
        #expect(!sampler.isDeterministic && sampler.description == "ddpm:\(steps)")
        let (x, nfe) = try sampler.run(target.eps, sde: target.sde, xT: xT, using: &rng)
        #expect(nfe == steps)
        expectMoments(of: x, exact: { respacedMoments($0, steps: steps) }, label: "ddpm:\(steps)")
    }

    /// Each of the 48 elements' sample mean and variance over the batch against the exact
    /// ones: sampling error only — |z| of the mean < 5, the variance within 5 standard errors √(2/(n − 1)).
    func expectMoments(of x: Tensor, exact: (Int) -> (mean: Double, variance: Double), label: String) {
        let n = 48, values = x.scalars
        for i in 0..<n {
            let col = stride(from: i, to: values.count, by: n).map { Double(values[$0]) }
            let count = Double(col.count)
            let mean = col.reduce(0, +) / count
            let variance = col.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (count - 1)
            let e = exact(i)
            let z = (mean - e.mean) / (e.variance / count).squareRoot()
            #expect(abs(z) < 5, "\(label) element \(i) (s = \(target.s[i])): mean \(mean), exact \(e.mean), z \(z)")
            #expect(abs(variance / e.variance - 1) < 5 * (2 / (count - 1)).squareRoot(),
                    "\(label) element \(i) (s = \(target.s[i])): variance \(variance), exact \(e.variance)")
        }
    }
}
