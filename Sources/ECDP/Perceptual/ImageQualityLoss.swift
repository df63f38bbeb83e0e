// The feature term of fine-tuning (docs/design.md §5): weight · mean over taps of
// mean |F_k(μ + σ·x̂0) − F_k(HR)|, F a feature network (VGG19 features[:35] officially) — the
// one place it is written; the trainer and `ecdp bench adjoint` use it.
import Grad

public struct ImageQualityLoss {
    public let features: PerceptualFeatures
    public let weight: Float

    public init(features: PerceptualFeatures, weight: Float) {
        self.features = features
        self.weight = weight
    }

    /// The features of the HR image, computed once per batch and held fixed.
    public func target(_ hr: Tensor) -> [Tensor] { withoutDerivatives { features(hr) } }

    /// The loss of a sampled image μ + σ·x̂0 (`Diffusion.image(residual:mean:)`, unclipped)
    /// given the HR features.
    public func callAsFunction(_ image: Tensor, target: [Tensor]) -> Tensor {
        let taps = features(image)
        var sum = l1Loss(taps[0], target[0])
        for k in taps.indices.dropFirst() { sum = sum + l1Loss(taps[k], target[k]) }
        return sum * (weight / Float(taps.count))
    }
}
