// The conditional mean/variance-preserving SDE (docs/design.md §2). In the normalized residual
// x = (HR − μ(y))/σ the forward process is the VP SDE dx = −½β(s)x ds + √β(s) dW with
// s = t/T, T = 300, β(s) = β_min + s(β_max − β_min), so x_t = √ᾱ(t)·x0 + √(1−ᾱ(t))·ε with
// ᾱ(t) = exp(−s(s(β_max − β_min)/2 + β_min)): HR's mean μ and variance σ² are preserved.
import Foundation
import Grad

public struct MVPSDE: Sendable, Equatable {
    public var betaMin: Double = 0.1
    public var betaMax: Double = 20
    /// Time horizon on the network's scale (the official T = 300).
    public var horizon: Double = 300

    public init(betaMin: Double = 0.1, betaMax: Double = 20, horizon: Double = 300) {
        self.betaMin = betaMin
        self.betaMax = betaMax
        self.horizon = horizon
    }

    /// ᾱ at time t ∈ [0, T].
    public func alphaBar(_ t: Double) -> Double {
        let s = t / horizon
        return exp(-s * (s * (betaMax - betaMin) / 2 + betaMin))
    }

    /// β at time t (per unit of s).
    public func beta(_ t: Double) -> Double { betaMin + (betaMax - betaMin) * t / horizon }

    /// The probability-flow ODE's drift (docs/design.md §4) given the noise estimate ε at (x, t):
    /// dx/dt = [−½β x + ½β ε/√(1−ᾱ)] / T. The one place this formula is written.
    public func probabilityFlowDrift(x: Tensor, noise eps: Tensor, time: Double) -> Tensor {
        let abar = alphaBar(time), b = beta(time)
        let c1 = Float(-0.5 * b / horizon), c2 = Float(0.5 * b / (1 - abar).squareRoot() / horizon)
        return x * c1 + eps * c2
    }

    /// The discrete grid of the ancestral/DDIM samplers: ᾱ_i = ᾱ((i + 1)/N·T), i < N.
    public func discreteAlphaBars(steps: Int = 300) -> [Double] {
        (1...steps).map { alphaBar(Double($0) / Double(steps) * horizon) }
    }
}
