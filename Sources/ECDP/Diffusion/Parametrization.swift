// The parametrizations of the network's output (docs/design.md §3).
import Foundation

/// How the network's two outputs are combined into a noise estimate (docs/design.md §3).
public enum Parametrization: String, Sendable, Codable, CaseIterable {
    /// ε_hyb = λ·ε̂ + (1 − λ)·(x_t − √ᾱ·x̂0)/√(1 − ᾱ), λ = ᾱ^γ; loss on both outputs.
    case hybrid
    /// ε̂ only (λ ≡ 1); loss on ε̂ only.
    case eps
    /// x̂0 only (λ ≡ 0); loss on x̂0 only.
    case x0

    /// λ(t) for this parametrization.
    public func lambda(alphaBar: Double, gamma: Double) -> Double {
        switch self {
        case .hybrid: return pow(alphaBar, gamma)
        case .eps: return 1
        case .x0: return 0
        }
    }
}
