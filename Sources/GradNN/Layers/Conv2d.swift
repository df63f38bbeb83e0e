// 2-D convolution layer, PyTorch layout: weight [out, in, k, k], bias [out].
import Grad

public final class Conv2d: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Int
    public let padding: Int
    public var isTraining = true

    /// - Parameters: `initScale` multiplies PyTorch's default weight init; `biasInit`
    ///   chooses PyTorch's uniform bias or zeros.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, initScale: Float = 1, biasInit: BiasInit = .uniform,
                using rng: inout RandomGenerator) {
        let fanIn = inChannels * kernelSize * kernelSize
        weight = Parameter(Initialization.kaimingUniform([outChannels, inChannels, kernelSize, kernelSize],
                                                         fanIn: fanIn, scale: initScale, using: &rng))
        self.bias = !bias ? nil : Parameter(biasInit == .zeros ? .zeros([outChannels])
                                            : Initialization.defaultBias(outChannels, fanIn: fanIn, using: &rng))
        self.stride = stride
        self.padding = padding
    }

    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// x `[N, in, H, W]` → `[N, out, Ho, Wo]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.conv2d(x, weight: weight.value, bias: bias?.value, stride: stride, padding: padding)
    }
}
