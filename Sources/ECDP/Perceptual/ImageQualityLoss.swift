// The image-quality loss of fine-tuning (docs/design.md §5): weight · mean |F(μ + σ·x̂0) − F(HR)|
// with F a feature network (VGG19 features[:35]) — the one place it is written; the trainer
// and `ecdp bench adjoint` use it.
import Grad

public struct ImageQualityLoss {
    public let features: VGG19Features
    public let weight: Float

    public init(features: VGG19Features, weight: Float) {
        self.features = features
        self.weight = weight
    }

    /// The features of the HR image, computed once per batch and held fixed.
    public func target(_ hr: Tensor) -> Tensor { withoutDerivatives { features(hr) } }

    /// The loss of a sampled image μ + σ·x̂0 (`Diffusion.image(residual:mean:)`, unclipped)
    /// given the HR features.
    public func callAsFunction(_ image: Tensor, target: Tensor) -> Tensor {
        l1Loss(features(image), target) * weight
    }
}
