// Parameter-free activation layers, for use in `Sequential`.
import Grad

/// An elementwise activation as a layer.
public final class Activation: Layer {
    public enum Kind: Sendable { case relu, silu, leakyReLU(Float), sigmoid, tanh }
    public let kind: Kind
    public var isTraining = true

    public init(_ kind: Kind) { self.kind = kind }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch kind {
        case .relu: return x.relu()
        case .silu: return x.silu()
        case .leakyReLU(let s): return x.leakyReLU(slope: s)
        case .sigmoid: return x.sigmoid()
        case .tanh: return x.tanh()
        }
    }
}
