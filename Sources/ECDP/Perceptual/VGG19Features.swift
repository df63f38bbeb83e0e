// The image-quality loss's feature map (docs/design.md §5): torchvision VGG19
// `features[:35]`, ending at conv5_4 before its ReLU, on ImageNet-normalized input.
// Parameter names are torchvision's (`features.N.weight`), so converted torchvision
// weights load directly (`ecdp convert vgg19.pth vgg19.safetensors --map torchvision-vgg19`).
import Backbones
import Grad
import GradNN

public final class VGG19Features: Module {
    /// conv5_4 in torchvision's `features` numbering.
    static let lastConvolution = 34

    public let network: FeatureNetwork
    /// Channel widths divided by this (1 = the real VGG19; > 1 only for fast tests).
    public let widthDivisor: Int
    /// True when the weights are random (no converted torchvision weights loaded): any
    /// output computed with it is labelled so.
    public private(set) var isRandomlyInitialized = true
    public var isTraining = false

    public init(widthDivisor: Int = 1, seed: UInt64 = 0) {
        self.widthDivisor = widthDivisor
        network = FeatureNetwork.vgg(depth: 19, widthDivisor: widthDivisor, seed: seed)
    }

    /// torchvision's names: conv5_4 is VGG19's last convolution, so these are all of them.
    public var children: [(name: String, module: any Module)] { network.children }

    /// Loads converted torchvision weights (`features.N.weight/bias`).
    public func loadPretrained(_ weights: [String: Tensor]) throws {
        try load(weights)
        isRandomlyInitialized = false
    }

    /// ImageNet normalization (mean 0.485/0.456/0.406, std 0.229/0.224/0.225) of
    /// images in [0, 1], then the features `[N, 512/d, H/16, W/16]`.
    public func callAsFunction(_ image: Tensor) -> Tensor {
        let mean = Tensor([0.485, 0.456, 0.406], shape: [1, 3, 1, 1]), std = Tensor([0.229, 0.224, 0.225], shape: [1, 3, 1, 1])
        return network((image - mean) / std, taps: [Self.lastConvolution])[0]
    }
}
