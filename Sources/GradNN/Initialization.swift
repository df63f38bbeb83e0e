// Parameter initialisation matching PyTorch's defaults for Linear and Conv2d:
// weight ~ kaiming_uniform(a = √5), i.e. U(−1/√fan_in, 1/√fan_in); bias ~ the same
// bound. An init scale multiplies the weight (ECDP scales some convs by 1e-3 or 0.1).
import Grad

public enum Initialization {
    /// U(−1/√fanIn, 1/√fanIn) · scale, PyTorch's default for Linear/Conv weights.
    public static func kaimingUniform(_ shape: [Int], fanIn: Int, scale: Float = 1,
                                      using rng: inout RandomGenerator) -> Tensor {
        let bound = 1 / Float(fanIn).squareRoot()
        return Tensor.randomUniform(shape, lo: -bound, hi: bound, using: &rng) * scale
    }

    /// PyTorch's default bias: U(−1/√fanIn, 1/√fanIn).
    public static func defaultBias(_ count: Int, fanIn: Int, using rng: inout RandomGenerator) -> Tensor {
        let bound = 1 / Float(fanIn).squareRoot()
        return Tensor.randomUniform([count], lo: -bound, hi: bound, using: &rng)
    }
}

/// How a layer's bias starts.
public enum BiasInit: Sendable {
    /// PyTorch's default uniform bias.
    case uniform
    /// All zeros (ECDP's U-Net convs).
    case zeros
}
