// The feature network of fine-tuning's feature term (docs/design.md §5): a torchvision
// `features` stack (shared with LPIPS through Backbones) on ImageNet-normalised input, read
// at fixed layers. VGG19 ends at `features[:35]` (conv5_4 before its ReLU), as the official
// ECDP loss; VGG16 and AlexNet are read at the ReLU outputs LPIPS uses. Parameter names are
// torchvision's (`features.N.weight`), so torchvision state dicts load directly.
import Backbones
import Grad
import GradNN

public final class PerceptualFeatures: Module {
    public enum Architecture: String, Sendable, CaseIterable {
        case vgg19, vgg16, alexnet
    }

    public let architecture: Architecture
    public let network: FeatureNetwork
    /// The `features` indices read; the loss averages the L1 distance of each.
    public let taps: [Int]
    /// True until real weights are loaded: every output computed with it is labelled
    /// "random features".
    public private(set) var isRandomlyInitialized = true
    public var isTraining = false

    /// A random network, Kaiming-normal for ReLU so that activations keep their scale
    /// (`FeatureNetwork.reinitializeKaimingNormal`). `widthDivisor` > 1 narrows VGG (tests).
    public init(_ architecture: Architecture, widthDivisor: Int = 1, seed: UInt64 = 0) {
        self.architecture = architecture
        switch architecture {
        case .vgg19:
            network = .vgg(depth: 19, widthDivisor: widthDivisor, seed: seed)
            taps = [34]  // conv5_4, the last layer of features[:35]
        case .vgg16:
            network = .vgg(depth: 16, widthDivisor: widthDivisor, seed: seed)
            taps = FeatureNetwork.lpipsTaps("vgg16")!
        case .alexnet:
            precondition(widthDivisor == 1, "AlexNet has no narrowed variant")
            network = .alexNet(seed: seed)
            taps = FeatureNetwork.lpipsTaps("alexnet")!
        }
        network.reinitializeKaimingNormal(seed: seed)
    }

    public var children: [(name: String, module: any Module)] { network.children }

    /// Loads torchvision weights (`features.N.weight/bias`; the classifier's are ignored).
    public func loadPretrained(_ weights: [String: Tensor]) throws {
        try load(weights.filter { $0.key.hasPrefix("features.") })
        isRandomlyInitialized = false
    }

    /// ImageNet normalisation (mean 0.485/0.456/0.406, std 0.229/0.224/0.225) of images in
    /// [0, 1] (not clamped, as the official loss), then the tapped activations.
    public func callAsFunction(_ image: Tensor) -> [Tensor] {
        let mean = Tensor([0.485, 0.456, 0.406], shape: [1, 3, 1, 1]), std = Tensor([0.229, 0.224, 0.225], shape: [1, 3, 1, 1])
        return network((image - mean) / std, taps: taps)
    }
}
