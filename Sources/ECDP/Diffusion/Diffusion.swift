// The diffusion maths of ECDP in one value (docs/design.md §2–§4): the SDE, the residual
// normalization σ, the parametrization and γ. It owns the residual↔image maps, the
// forward noising, the training loss, the noise estimate built from the network's two
// outputs and the probability-flow drift; the networks themselves live in ECDPModel.
import Grad

public struct Diffusion: Sendable, Equatable {
    public var sde: MVPSDE
    /// σ: the residual HR − μ is divided by it (official 0.2, i.e. ×5).
    public var sigma: Float
    public var parametrization: Parametrization
    /// γ of λ(t) = ᾱ(t)^γ (hybrid parametrization).
    public var gamma: Double

    public init(sde: MVPSDE = MVPSDE(), sigma: Float = 0.2, parametrization: Parametrization = .hybrid, gamma: Double = 1) {
        self.sde = sde
        self.sigma = sigma
        self.parametrization = parametrization
        self.gamma = gamma
    }

    /// μ(y): PyTorch-semantics bicubic upsampling of the LR image to the HR size.
    public func mean(lr: Tensor, height: Int, width: Int) -> Tensor {
        lr.resized(height: height, width: width, mode: .bicubic)
    }

    /// The normalized residual x0 = (HR − μ)/σ.
    public func residual(hr: Tensor, mean mu: Tensor) -> Tensor { (hr - mu) * (1 / sigma) }

    /// The image μ + σ·x0 of a residual (not clipped: the image-quality loss sees it raw).
    public func image(residual x0: Tensor, mean mu: Tensor) -> Tensor { mu + x0 * sigma }

    /// Training times t = T·u, u ~ U[0, 1), one per sample.
    public func sampleTimes(count: Int, using rng: inout RandomGenerator) -> [Float] {
        (0..<count).map { _ in Float(sde.horizon) * rng.uniformFloat() }
    }

    /// x_t = √ᾱ(t)·x0 + √(1−ᾱ(t))·ε, one time per sample.
    public func noised(_ x0: Tensor, times: [Float], noise eps: Tensor) -> Tensor {
        let n = x0.shape[0]
        let abar = times.map { sde.alphaBar(Double($0)) }
        let a = Tensor(abar.map { Float($0.squareRoot()) }, shape: [n, 1, 1, 1])
        let b = Tensor(abar.map { Float((1 - $0).squareRoot()) }, shape: [n, 1, 1, 1])
        return x0 * a + eps * b
    }

    /// The score-matching loss averaged over the batch (docs/design.md §3): per sample
    /// Σ(ε̂ − ε)² + Σ(x̂0 − x0)² (hybrid; one term for eps / x0). `prediction` is the
    /// network's output `[N, 6, H, W]` (ε̂ then x̂0).
    public func loss(prediction: Tensor, residual x0: Tensor, noise eps: Tensor) -> Tensor {
        let parts = prediction.split(sizes: [3, 3], axis: 1)
        let perSample: Tensor
        switch parametrization {
        case .hybrid:
            perSample = (parts[0] - eps).squared().sum(axes: [1, 2, 3]) + (parts[1] - x0).squared().sum(axes: [1, 2, 3])
        case .eps: perSample = (parts[0] - eps).squared().sum(axes: [1, 2, 3])
        case .x0: perSample = (parts[1] - x0).squared().sum(axes: [1, 2, 3])
        }
        return perSample.mean()
    }

    /// The noise estimate ε_hyb = λ·ε̂ + (1 − λ)·(x_t − √ᾱ·x̂0)/√(1 − ᾱ) at (x_t, t) from the
    /// network's output `[N, 6, H, W]`.
    public func noiseEstimate(prediction: Tensor, xt: Tensor, time: Double) -> Tensor {
        let parts = prediction.split(sizes: [3, 3], axis: 1)
        let abar = sde.alphaBar(time)
        let lambda = Float(parametrization.lambda(alphaBar: abar, gamma: gamma))
        if lambda == 1 { return parts[0] }
        let fromX0 = (xt - parts[1] * Float(abar.squareRoot())) * Float(1 / (1 - abar).squareRoot())
        if lambda == 0 { return fromX0 }
        return parts[0] * lambda + fromX0 * (1 - lambda)
    }

    /// The probability-flow ODE's drift given the noise estimate at (x, t).
    public func probabilityFlowDrift(x: Tensor, noise eps: Tensor, time: Double) -> Tensor {
        sde.probabilityFlowDrift(x: x, noise: eps, time: time)
    }
}
