// Group normalization layer: γ starts at 1, β at 0 (PyTorch's defaults), ε = 1e-5.
import Grad

public final class GroupNorm: Layer {
    public let groups: Int
    public let epsilon: Float
    public let weight: Parameter
    public let bias: Parameter
    public var isTraining = true

    public init(groups: Int, channels: Int, epsilon: Float = 1e-5) {
        precondition(channels % groups == 0, "GroupNorm: \(channels) channels in \(groups) groups")
        self.groups = groups
        self.epsilon = epsilon
        weight = Parameter(.ones([channels]))
        bias = Parameter(.zeros([channels]))
    }

    public var ownParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.groupNorm(x, groups: groups, gamma: weight.value, beta: bias.value, epsilon: epsilon)
    }

    /// `self(x).silu()` in one fused op (`Tensor.groupNormSiLU`).
    public func callAsFunction(_ x: Tensor, thenSiLU: Bool) -> Tensor {
        guard thenSiLU else { return self(x) }
        return Tensor.groupNormSiLU(x, groups: groups, gamma: weight.value, beta: bias.value, epsilon: epsilon)
    }
}
