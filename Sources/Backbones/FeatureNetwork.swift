// torchvision's `features` stacks (VGG, AlexNet, SqueezeNet 1.1) on Grad, as one type: a
// list of layers at torchvision's indices, so parameter paths are torchvision's own
// (`features.<index>.weight`, `features.<index>.squeeze.weight`) and a torchvision state
// dict loads without renaming. A forward pass returns the activations after the layers
// asked for — the taps perceptual losses and LPIPS read.
import Grad
import GradNN

public final class FeatureNetwork: Module {
    /// One entry of a torchvision `features` Sequential.
    public enum Operation {
        case convolution(Conv2d)
        case relu
        case maxPool(kernel: Int, stride: Int, ceilMode: Bool)
        case fire(Fire)
    }

    /// The architecture's name (`vgg16`, `vgg19`, `alexnet`, `squeezenet1_1`).
    public let name: String
    public let layers: [Operation]
    public var isTraining = false

    public init(name: String, layers: [Operation]) {
        self.name = name
        self.layers = layers
    }

    public var children: [(name: String, module: any Module)] {
        layers.enumerated().compactMap { index, layer in
            switch layer {
            case let .convolution(conv): return ("features.\(index)", conv)
            case let .fire(fire): return ("features.\(index)", fire)
            case .relu, .maxPool: return nil
            }
        }
    }

    /// Runs `x` through layers 0…max(taps) and returns the output of each tapped layer, in
    /// the order of `taps`.
    public func callAsFunction(_ x: Tensor, taps: [Int]) -> [Tensor] {
        precondition(!taps.isEmpty && taps.allSatisfy { layers.indices.contains($0) }, "taps \(taps) outside 0..<\(layers.count)")
        var h = x
        var outputs: [Int: Tensor] = [:]
        for index in 0...taps.max()! {
            switch layers[index] {
            case let .convolution(conv): h = conv(h)
            case .relu: h = h.relu()
            case let .maxPool(kernel, stride, ceilMode): h = h.maxPooled(kernel: kernel, stride: stride, ceilMode: ceilMode)
            case let .fire(fire): h = fire(h)
            }
            if taps.contains(index) { outputs[index] = h }
        }
        return taps.map { outputs[$0]! }
    }
}

/// SqueezeNet's Fire module: a 1×1 squeeze convolution and ReLU, then 1×1 and 3×3 expand
/// convolutions, each with its ReLU, concatenated over channels.
public final class Fire: Module {
    public let squeeze: Conv2d
    public let expand1x1: Conv2d
    public let expand3x3: Conv2d
    public var isTraining = false

    public init(_ inChannels: Int, squeeze s: Int, expand1x1 e1: Int, expand3x3 e3: Int, using rng: inout RandomGenerator) {
        squeeze = Conv2d(inChannels, s, kernelSize: 1, using: &rng)
        expand1x1 = Conv2d(s, e1, kernelSize: 1, using: &rng)
        expand3x3 = Conv2d(s, e3, kernelSize: 3, padding: 1, using: &rng)
    }

    public var children: [(name: String, module: any Module)] {
        [("squeeze", squeeze), ("expand1x1", expand1x1), ("expand3x3", expand3x3)]
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let s = squeeze(x).relu()
        return Tensor.concatenate([expand1x1(s).relu(), expand3x3(s).relu()], axis: 1)
    }
}
