// The whole model: RRDB encoder + U-Net + the diffusion wrapper (docs/design.md §1–§4).
// Parameter paths: `unet.<official diffusion.network name>`, `rrdb.<official lr_feats name>`.
import Foundation
import Grad
import GradNN

public final class ECDPModel: Module {
    public let config: ModelConfig
    public let unet: UNet
    public let rrdb: RRDBEncoder
    public var sde = MVPSDE()
    /// σ: the residual HR − μ is divided by it (official 0.2, i.e. ×5).
    public var sigma: Float
    public var parametrization: Parametrization
    public var gamma: Double
    public var isTraining = true

    public init(config: ModelConfig, sigma: Float = 0.2, parametrization: Parametrization = .hybrid, gamma: Double = 1,
                seed: UInt64 = 0) {
        precondition(config.problems.isEmpty, config.problems.joined(separator: "; "))
        var rng = RandomGenerator(seed: seed)
        self.config = config
        unet = UNet(config: config, using: &rng)
        rrdb = RRDBEncoder(config: config, using: &rng)
        self.sigma = sigma
        self.parametrization = parametrization
        self.gamma = gamma
    }

    public var children: [(name: String, module: any Module)] { [("unet", unet), ("rrdb", rrdb)] }

    /// μ(y): PyTorch-semantics bicubic upsampling of the LR image to the HR size.
    public func mean(lr: Tensor, height: Int, width: Int) -> Tensor {
        lr.resized(height: height, width: width, mode: .bicubic)
    }

    /// The per-sample training loss, averaged over the batch (docs/design.md §3, §8):
    /// t = 300·u, x_t = √ᾱ x0 + √(1−ᾱ) ε, loss = Σ(ε̂ − ε)² + Σ(x̂0 − x0)² (hybrid; one
    /// term for eps / x0). hr `[N, 3, H, W]`, lr `[N, 3, H/s, W/s]`.
    public func loss(hr: Tensor, lr: Tensor, using rng: inout RandomGenerator) -> Tensor {
        let times = (0..<hr.shape[0]).map { _ in Float(sde.horizon) * rng.uniformFloat() }
        let eps = Tensor.randomNormal(hr.shape, using: &rng)
        return loss(hr: hr, lr: lr, times: times, noise: eps)
    }

    /// The same loss at given times (one per sample, 0…300) and noise ε.
    public func loss(hr: Tensor, lr: Tensor, times: [Float], noise eps: Tensor) -> Tensor {
        let n = hr.shape[0], (h, w) = (hr.shape[2], hr.shape[3])
        let feats = rrdb(lr)
        let mu = withoutDerivatives { mean(lr: lr, height: h, width: w) }
        let x0 = withoutDerivatives { (hr - mu) * (1 / sigma) }
        let abar = times.map { sde.alphaBar(Double($0)) }
        let a = Tensor(abar.map { Float($0.squareRoot()) }, shape: [n, 1, 1, 1])
        let b = Tensor(abar.map { Float((1 - $0).squareRoot()) }, shape: [n, 1, 1, 1])
        let xt = withoutDerivatives { x0 * a + eps * b }
        let pred = unet(xt, times: times, lrFeatures: feats)
        let parts = pred.split(sizes: [3, 3], axis: 1)
        var perSample: Tensor
        switch parametrization {
        case .hybrid:
            perSample = (parts[0] - eps).squared().sum(axes: [1, 2, 3]) + (parts[1] - x0).squared().sum(axes: [1, 2, 3])
        case .eps: perSample = (parts[0] - eps).squared().sum(axes: [1, 2, 3])
        case .x0: perSample = (parts[1] - x0).squared().sum(axes: [1, 2, 3])
        }
        return perSample.mean()
    }

    /// The hybrid noise estimate ε_hyb at (x_t, t) from the network's outputs.
    public func noiseEstimate(xt: Tensor, time: Double, lrFeatures: Tensor) -> Tensor {
        let n = xt.shape[0]
        let pred = unet(xt, times: [Float](repeating: Float(time), count: n), lrFeatures: lrFeatures)
        let parts = pred.split(sizes: [3, 3], axis: 1)
        let abar = sde.alphaBar(time)
        let lambda = Float(parametrization.lambda(alphaBar: abar, gamma: gamma))
        if lambda == 1 { return parts[0] }
        let fromX0 = (xt - parts[1] * Float(abar.squareRoot())) * Float(1 / (1 - abar).squareRoot())
        if lambda == 0 { return fromX0 }
        return parts[0] * lambda + fromX0 * (1 - lambda)
    }

    /// Probability-flow ODE drift in t (docs/design.md §4): dx/dt = [−½β x + ½β ε_hyb/√(1−ᾱ)] / T.
    public func probabilityFlow(x: Tensor, time: Double, lrFeatures: Tensor) -> Tensor {
        sde.probabilityFlowDrift(x: x, noise: noiseEstimate(xt: x, time: time, lrFeatures: lrFeatures), time: time)
    }

    /// HR image from the normalized residual: μ + σ·x0, clipped to [0, 1].
    public func image(residual x0: Tensor, lr: Tensor) -> Tensor {
        withoutDerivatives {
            (mean(lr: lr, height: x0.shape[2], width: x0.shape[3]) + x0 * sigma).clamped(to: 0, 1)
        }
    }
}
