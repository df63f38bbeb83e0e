// RRDBNet: the RRDB encoder with an upsampling head, the network the official recipe
// pretrains with an L1 loss before ECDP training (official lib/model/rrdbnet.py). The head
// reads the encoder's selected block outputs (the official RRDBNet stage selects the last
// block) and is, per factor of 2, nearest ×2 → conv → LeakyReLU(0.2), then conv →
// LeakyReLU(0.2) → conv to 3 channels. Parameter names are the official ones (`rrdb.*`,
// `final.<i>.*` with i the position in the official `nn.Sequential`), so official RRDBNet
// weights load directly and the encoder's transfer to ECDP's `rrdb.*` unchanged.
import Grad
import GradNN

public final class RRDBNet: Module {
    public let rrdb: RRDBEncoder
    /// One conv per factor of 2, then the two output convs.
    public let final: [Conv2d]
    public var isTraining = true

    /// `scale` must be a power of two; the head reads `config.rrdbSelection`.
    public init(config: ModelConfig, scale: Int, using rng: inout RandomGenerator) {
        precondition(scale >= 2 && scale & (scale - 1) == 0, "RRDBNet scale \(scale) must be a power of two")
        rrdb = RRDBEncoder(config: config, using: &rng)
        let c = config.lrFeatureChannels
        final = (0..<scale.trailingZeroBitCount).map { _ in Conv2d(c, c, kernelSize: 3, padding: 1, using: &rng) }
            + [Conv2d(c, c, kernelSize: 3, padding: 1, using: &rng), Conv2d(c, 3, kernelSize: 3, padding: 1, using: &rng)]
    }

    /// Index of each conv in the official `final` Sequential (upsample, conv, LeakyReLU per
    /// factor of 2; then conv, LeakyReLU, conv).
    var finalIndices: [Int] {
        let ups = final.count - 2
        return (0..<ups).map { 3 * $0 + 1 } + [3 * ups, 3 * ups + 2]
    }

    public var children: [(name: String, module: any Module)] {
        [("rrdb", rrdb)] + zip(finalIndices, final).map { ("final.\($0)", $1) }
    }

    /// LR `[N, 3, h, w]` → SR `[N, 3, h·scale, w·scale]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = rrdb(x)
        for conv in final.dropLast(2) { h = conv(h.upsampledNearest2x()).leakyReLU(slope: 0.2) }
        h = final[final.count - 2](h).leakyReLU(slope: 0.2)
        return final[final.count - 1](h)
    }
}
