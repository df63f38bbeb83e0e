// Fully connected layer, PyTorch layout: weight [out, in], bias [out].
import Grad

public final class Linear: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public var isTraining = true

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, initScale: Float = 1,
                biasInit: BiasInit = .uniform, using rng: inout RandomGenerator) {
        weight = Parameter(Initialization.kaimingUniform([outFeatures, inFeatures], fanIn: inFeatures,
                                                         scale: initScale, using: &rng))
        self.bias = !bias ? nil : Parameter(biasInit == .zeros ? .zeros([outFeatures])
                                            : Initialization.defaultBias(outFeatures, fanIn: inFeatures, using: &rng))
    }

    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// x `[N, in]` → `[N, out]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.linear(x, weight: weight.value, bias: bias?.value)
    }
}
