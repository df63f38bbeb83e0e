// The torchvision architectures, layer for layer (torchvision.models: vgg.py `cfgs`,
// alexnet.py, squeezenet.py version 1_1). Random weights use PyTorch's default
// initialisation; real ones are loaded with `Module.load` from a torchvision state dict.
import Grad
import GradNN

extension FeatureNetwork {
    /// VGG `features` (no batch norm): 16 or 19 layers. `widthDivisor` > 1 narrows every
    /// convolution (fast tests only; the real network is 1).
    public static func vgg(depth: Int, widthDivisor: Int = 1, seed: UInt64 = 0) -> FeatureNetwork {
        let stages: [[Int]]
        switch depth {
        case 16: stages = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]
        case 19: stages = [[64, 64], [128, 128], [256, 256, 256, 256], [512, 512, 512, 512], [512, 512, 512, 512]]
        default: preconditionFailure("VGG depth \(depth): 16 or 19")
        }
        var rng = RandomGenerator(seed: seed)
        var layers: [Operation] = []
        var channels = 3
        for stage in stages {
            for width in stage {
                let out = width / widthDivisor
                layers.append(.convolution(Conv2d(channels, out, kernelSize: 3, padding: 1, using: &rng)))
                layers.append(.relu)
                channels = out
            }
            layers.append(.maxPool(kernel: 2, stride: 2, ceilMode: false))
        }
        return FeatureNetwork(name: "vgg\(depth)", layers: layers)
    }

    /// AlexNet `features` (torchvision's one-GPU variant: 64, 192, 384, 256, 256 channels).
    public static func alexNet(seed: UInt64 = 0) -> FeatureNetwork {
        var rng = RandomGenerator(seed: seed)
        let pool = Operation.maxPool(kernel: 3, stride: 2, ceilMode: false)
        return FeatureNetwork(name: "alexnet", layers: [
            .convolution(Conv2d(3, 64, kernelSize: 11, stride: 4, padding: 2, using: &rng)), .relu, pool,
            .convolution(Conv2d(64, 192, kernelSize: 5, padding: 2, using: &rng)), .relu, pool,
            .convolution(Conv2d(192, 384, kernelSize: 3, padding: 1, using: &rng)), .relu,
            .convolution(Conv2d(384, 256, kernelSize: 3, padding: 1, using: &rng)), .relu,
            .convolution(Conv2d(256, 256, kernelSize: 3, padding: 1, using: &rng)), .relu, pool,
        ])
    }

    /// SqueezeNet 1.1 `features`.
    public static func squeezeNet(seed: UInt64 = 0) -> FeatureNetwork {
        var rng = RandomGenerator(seed: seed)
        let pool = Operation.maxPool(kernel: 3, stride: 2, ceilMode: true)
        func fire(_ c: Int, _ s: Int, _ e: Int) -> Operation { .fire(Fire(c, squeeze: s, expand1x1: e, expand3x3: e, using: &rng)) }
        let stem = Operation.convolution(Conv2d(3, 64, kernelSize: 3, stride: 2, using: &rng))
        return FeatureNetwork(name: "squeezenet1_1", layers: [
            stem, .relu, pool,
            fire(64, 16, 64), fire(128, 16, 64), pool,
            fire(128, 32, 128), fire(256, 32, 128), pool,
            fire(256, 48, 192), fire(384, 48, 192), fire(384, 64, 256), fire(512, 64, 256),
        ])
    }
}

extension FeatureNetwork {
    /// The `features` indices LPIPS reads for `vgg16` and `alexnet` (the ReLU outputs ending
    /// the `lpips` package's slices), every Fire module's output for `squeezenet1_1`.
    public static func lpipsTaps(_ name: String) -> [Int]? {
        switch name {
        case "alexnet": return [1, 4, 7, 9, 11]
        case "vgg16": return [3, 8, 15, 22, 29]
        case "squeezenet1_1": return [1, 4, 7, 9, 10, 11, 12]
        default: return nil
        }
    }

    /// Redraws every convolution as Kaiming-normal for ReLU (std √(2 / fan-in), zero bias),
    /// so activations keep their scale through depth. PyTorch's default (Kaiming-uniform with
    /// a = √5) shrinks them by ≈ √3 per layer, and VGG19's conv5_4 ends near 1e-8 — no
    /// signal for a loss built on a random network.
    public func reinitializeKaimingNormal(seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        for layer in layers {
            let convolutions: [Conv2d]
            switch layer {
            case let .convolution(conv): convolutions = [conv]
            case let .fire(fire): convolutions = [fire.squeeze, fire.expand1x1, fire.expand3x3]
            case .relu, .maxPool: convolutions = []
            }
            for conv in convolutions {
                let shape = conv.weight.shape
                let fanIn = shape[1] * shape[2] * shape[3]
                conv.weight.value = .randomNormal(shape, std: (2 / Float(fanIn)).squareRoot(), using: &rng)
                if let bias = conv.bias { bias.value = .zeros(bias.shape) }
            }
        }
    }
}
