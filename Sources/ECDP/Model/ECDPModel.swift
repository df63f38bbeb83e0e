// The whole model: RRDB encoder + U-Net (docs/design.md §1), and the `Diffusion` whose
// maths turns their outputs into losses, noise estimates and images (§2–§4).
// Parameter paths: `unet.<official diffusion.network name>`, `rrdb.<official lr_feats name>`.
import Foundation
import Grad
import GradNN

public final class ECDPModel: Module {
    public let config: ModelConfig
    public let unet: UNet
    public let rrdb: RRDBEncoder
    public var diffusion: Diffusion
    public var isTraining = true
    /// Called with the time t after every noise estimate (progress of a long sampling run;
    /// nil while training).
    public var evaluationObserver: ((Double) -> Void)?

    public init(config: ModelConfig, diffusion: Diffusion = Diffusion(), seed: UInt64 = 0) {
        precondition(config.problems.isEmpty, config.problems.joined(separator: "; "))
        var rng = RandomGenerator(seed: seed)
        self.config = config
        unet = UNet(config: config, using: &rng)
        rrdb = RRDBEncoder(config: config, using: &rng)
        self.diffusion = diffusion
    }

    public var children: [(name: String, module: any Module)] { [("unet", unet), ("rrdb", rrdb)] }

    /// μ(y) at the HR size.
    public func mean(lr: Tensor, height: Int, width: Int) -> Tensor {
        diffusion.mean(lr: lr, height: height, width: width)
    }

    /// The training loss averaged over the batch, at random times and noise.
    /// hr `[N, 3, H, W]`, lr `[N, 3, H/s, W/s]`.
    public func loss(hr: Tensor, lr: Tensor, using rng: inout RandomGenerator) -> Tensor {
        let times = diffusion.sampleTimes(count: hr.shape[0], using: &rng)
        let eps = Tensor.randomNormal(hr.shape, using: &rng)
        return loss(hr: hr, lr: lr, times: times, noise: eps)
    }

    /// The training loss at given times (one per sample, 0…T) and noise ε.
    public func loss(hr: Tensor, lr: Tensor, times: [Float], noise eps: Tensor) -> Tensor {
        let feats = rrdb(lr)
        let mu = withoutDerivatives { mean(lr: lr, height: hr.shape[2], width: hr.shape[3]) }
        let x0 = withoutDerivatives { diffusion.residual(hr: hr, mean: mu) }
        let xt = withoutDerivatives { diffusion.noised(x0, times: times, noise: eps) }
        let prediction = unet(xt, times: times, lrFeatures: feats)
        return diffusion.loss(prediction: prediction, residual: x0, noise: eps)
    }

    /// The noise estimate ε_hyb at (x_t, t), given the encoder's features of the LR image.
    public func noiseEstimate(xt: Tensor, time: Double, lrFeatures: Tensor) -> Tensor {
        let prediction = unet(xt, times: [Float](repeating: Float(time), count: xt.shape[0]), lrFeatures: lrFeatures)
        defer { evaluationObserver?(time) }
        return diffusion.noiseEstimate(prediction: prediction, xt: xt, time: time)
    }

    /// The probability-flow ODE's drift at (x, t).
    public func probabilityFlow(x: Tensor, time: Double, lrFeatures: Tensor) -> Tensor {
        diffusion.probabilityFlowDrift(x: x, noise: noiseEstimate(xt: x, time: time, lrFeatures: lrFeatures), time: time)
    }

    /// The HR image of a residual: μ + σ·x0, clipped to [0, 1].
    public func image(residual x0: Tensor, lr: Tensor) -> Tensor {
        withoutDerivatives {
            diffusion.image(residual: x0, mean: mean(lr: lr, height: x0.shape[2], width: x0.shape[3])).clamped(to: 0, 1)
        }
    }
}
