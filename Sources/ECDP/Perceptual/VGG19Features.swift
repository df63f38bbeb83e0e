// VGG19 `features[:35]` (torchvision layout: convs at indices 0, 2, 5, 7, 10, 12, 14, 16,
// 19, 21, 23, 25, 28, 30, 32, 34; ReLU after each conv but the last; max-pool 2×2 at 4,
// 9, 18, 27), ending at conv5_4 before its ReLU (docs/design.md §5). Parameter names are
// torchvision's (`features.N.weight`), so converted torchvision weights load directly
// (`ecdp convert vgg19.pth vgg19.safetensors --map torchvision-vgg19`).
import Grad
import GradNN

public final class VGG19Features: Module {
    /// (features index, in, out) of each conv, and the indices followed by a max-pool.
    static let convs: [(index: Int, inChannels: Int, outChannels: Int)] = [
        (0, 3, 64), (2, 64, 64), (5, 64, 128), (7, 128, 128), (10, 128, 256), (12, 256, 256), (14, 256, 256), (16, 256, 256),
        (19, 256, 512), (21, 512, 512), (23, 512, 512), (25, 512, 512), (28, 512, 512), (30, 512, 512), (32, 512, 512), (34, 512, 512),
    ]
    static let poolAfter: Set<Int> = [2, 7, 16, 25]  // pools at features 4, 9, 18, 27 follow these convs

    public let layers: [Conv2d]
    /// Channel widths divided by this (1 = the real VGG19; > 1 only for fast tests).
    public let widthDivisor: Int
    /// True when the weights are random (no converted torchvision weights loaded): any
    /// output computed with it is labelled so.
    public private(set) var isRandomlyInitialized = true
    public var isTraining = false

    public init(widthDivisor: Int = 1, seed: UInt64 = 0) {
        var rng = RandomGenerator(seed: seed)
        self.widthDivisor = widthDivisor
        layers = Self.convs.map { c in
            Conv2d(c.inChannels == 3 ? 3 : c.inChannels / widthDivisor, c.outChannels / widthDivisor, kernelSize: 3, padding: 1, using: &rng)
        }
    }

    public var children: [(name: String, module: any Module)] {
        zip(Self.convs, layers).map { ("features.\($0.index)", $1) }
    }

    /// Loads converted torchvision weights (`features.N.weight/bias`).
    public func loadPretrained(_ weights: [String: Tensor]) throws {
        try load(weights)
        isRandomlyInitialized = false
    }

    /// ImageNet normalization (mean 0.485/0.456/0.406, std 0.229/0.224/0.225) of
    /// images in [0, 1], then the features `[N, 512/d, H/16, W/16]`.
    public func callAsFunction(_ image: Tensor) -> Tensor {
        let mean = Tensor([0.485, 0.456, 0.406], shape: [1, 3, 1, 1]), std = Tensor([0.229, 0.224, 0.225], shape: [1, 3, 1, 1])
        var h = (image - mean) / std
        for (k, conv) in layers.enumerated() {
            h = conv(h)
            if k == layers.count - 1 { break }  // conv5_4, before its ReLU
            h = h.relu()
            if Self.poolAfter.contains(Self.convs[k].index) { h = h.maxPooled2x2() }
        }
        return h
    }
}
