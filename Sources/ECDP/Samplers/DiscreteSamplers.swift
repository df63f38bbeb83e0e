// Samplers on the diffusion grid: ancestral (DDPM), DDIM and DPM-Solver (docs/design.md §4, §8).
// The grid index i ∈ {0, …, 299} has ᾱ_i = ᾱ((i + 1)/300 · T) and is fed to the network
// as time i + 1, as the official discrete branch does.
import Foundation
import Grad

public enum DiscreteSamplers {
    /// Ancestral sampling (Ho et al. 2020, eq. 11) with injected variance β_i, from
    /// i = 299 down to i = 6, then the x0 projection at i = 5 itself: the official loop
    /// runs i = 299 … `end_step` = 5 and projects on its last index, 295 evaluations.
    public static func ancestral(_ eps: NoiseEstimator, sde: MVPSDE, xT: Tensor,
                                 using rng: inout RandomGenerator) -> (x0: Tensor, evaluations: Int) {
        let abar = sde.discreteAlphaBars(steps: 300)
        var x = xT
        var nfe = 0
        let endStep = 5
        for i in stride(from: 299, to: endStep, by: -1) {
            let alpha = i == 0 ? abar[0] : abar[i] / abar[i - 1], beta = 1 - alpha
            let e = eps(x, Double(i + 1)); nfe += 1
            let mean = (x - e * Float(beta / (1 - abar[i]).squareRoot())) * Float(1 / alpha.squareRoot())
            x = mean + Tensor.randomNormal(x.shape, using: &rng) * Float(beta.squareRoot())
        }
        let i = endStep
        let e = eps(x, Double(i + 1)); nfe += 1
        return ((x - e * Float((1 - abar[i]).squareRoot())) * Float(1 / abar[i].squareRoot()), nfe)
    }

    /// DDPM on a respaced grid (the BC paper's baseline; Nichol & Dhariwal 2021): the DDIM
    /// indices i_k = ⌊k·300/steps⌋, α = ᾱ_{i_k}/ᾱ_{i_{k−1}} and β = 1 − α recomputed between
    /// kept indices, the posterior variance β̃ = (1 − ᾱ_{i_{k−1}})/(1 − ᾱ_{i_k})·β injected,
    /// and the x0 projection at the lowest kept index (0). So `ddpm:300` is not `ancestral`
    /// (β̃ instead of β, end index 0 instead of 5).
    public static func respacedDDPM(_ eps: NoiseEstimator, sde: MVPSDE, xT: Tensor, steps: Int,
                                    using rng: inout RandomGenerator) -> (x0: Tensor, evaluations: Int) {
        let abar = sde.discreteAlphaBars(steps: 300)
        let indices = (0..<steps).map { $0 * 300 / steps }
        var x = xT
        for k in stride(from: steps - 1, through: 1, by: -1) {
            let (a, prev) = (abar[indices[k]], abar[indices[k - 1]])
            let alpha = a / prev, beta = 1 - alpha
            let variance = (1 - prev) / (1 - a) * beta
            let e = eps(x, Double(indices[k] + 1))
            let mean = (x - e * Float(beta / (1 - a).squareRoot())) * Float(1 / alpha.squareRoot())
            x = mean + Tensor.randomNormal(x.shape, using: &rng) * Float(variance.squareRoot())
        }
        let a0 = abar[indices[0]]
        let e = eps(x, Double(indices[0] + 1))
        return ((x - e * Float((1 - a0).squareRoot())) * Float(1 / a0.squareRoot()), steps)
    }

    /// DDIM with η = 0 (Song et al. 2021, eq. 12) on `steps` grid indices
    /// i_k = ⌊k·300/steps⌋, k < steps, visited downwards; the last step maps to ᾱ = 1.
    /// `ddim:300` visits every index.
    public static func ddim(_ eps: NoiseEstimator, sde: MVPSDE, xT: Tensor, steps: Int) -> (x0: Tensor, evaluations: Int) {
        let abar = sde.discreteAlphaBars(steps: 300)
        let indices = (0..<steps).map { $0 * 300 / steps }
        var x = xT
        for (k, i) in indices.enumerated().reversed() {
            let e = eps(x, Double(i + 1))
            let x0 = (x - e * Float((1 - abar[i]).squareRoot())) * Float(1 / abar[i].squareRoot())
            let prev = k > 0 ? abar[indices[k - 1]] : 1
            x = x0 * Float(prev.squareRoot()) + e * Float((1 - prev).squareRoot())
        }
        return (x, steps)
    }

    /// DPM-Solver multistep (Lu et al. 2022) with the noise-prediction model, order 2 or
    /// 3, `steps` steps uniform in λ = log(α/σ) from t = T to `endTime`; lower orders at
    /// the first steps, and at the last ones when steps < 10 (the reference implementation's
    /// `lower_order_final`; its docstring says 15, its code 10). `onStep` sees every state.
    public static func dpmSolver(_ eps: NoiseEstimator, sde: MVPSDE, xT: Tensor, order: Int, steps: Int,
                                 endTime: Double, onStep: (Int, Tensor) -> Void = { _, _ in }) -> (x0: Tensor, evaluations: Int) {
        precondition(order == 2 || order == 3, "DPM-Solver order \(order)")
        func alpha(_ t: Double) -> Double { sde.alphaBar(t).squareRoot() }
        func sigma(_ t: Double) -> Double { (1 - sde.alphaBar(t)).squareRoot() }
        func lambda(_ t: Double) -> Double { log(alpha(t) / sigma(t)) }
        // Invert λ(t) by bisection (λ decreases in t).
        func time(_ l: Double) -> Double {
            var lo = endTime, hi = sde.horizon
            for _ in 0..<100 { let mid = (lo + hi) / 2; if lambda(mid) > l { lo = mid } else { hi = mid } }
            return (lo + hi) / 2
        }
        let (l0, l1) = (lambda(sde.horizon), lambda(endTime))
        let ts = (0...steps).map { k in k == 0 ? sde.horizon : k == steps ? endTime : time(l0 + (l1 - l0) * Double(k) / Double(steps)) }
        var x = xT
        var history: [(t: Double, e: Tensor)] = [(ts[0], eps(x, ts[0]))]
        var nfe = 1
        for k in 1...steps {
            let t = ts[k], s = history.last!.t
            let h = lambda(t) - lambda(s)
            let expm1h = Float(exp(h) - 1)
            var use = min(order, history.count)
            if steps < 10 { use = min(use, steps - k + 1) }
            let m0 = history[history.count - 1].e
            var next = x * Float(alpha(t) / alpha(s)) - m0 * (Float(sigma(t)) * expm1h)
            if use >= 2 {
                let s1 = history[history.count - 2].t, m1 = history[history.count - 2].e
                let r0 = (lambda(s) - lambda(s1)) / h
                let d10 = (m0 - m1) * Float(1 / r0)
                if use == 2 {
                    next = next - d10 * (Float(sigma(t)) * expm1h * 0.5)
                } else {
                    let s2 = history[history.count - 3].t, m2 = history[history.count - 3].e
                    let r1 = (lambda(s1) - lambda(s2)) / h
                    let d11 = (m1 - m2) * Float(1 / r1)
                    let d1 = d10 + (d10 - d11) * Float(r0 / (r0 + r1))
                    let d2 = (d10 - d11) * Float(1 / (r0 + r1))
                    let phi1 = (exp(h) - 1) / h - 1
                    let phi2 = phi1 / h - 0.5
                    next = next - d1 * Float(sigma(t) * phi1) - d2 * Float(sigma(t) * phi2)
                }
            }
            x = next
            onStep(k, x)
            if k < steps {
                history.append((t, eps(x, t))); nfe += 1
                if history.count > 3 { history.removeFirst() }
            }
        }
        return (x, nfe)
    }
}
