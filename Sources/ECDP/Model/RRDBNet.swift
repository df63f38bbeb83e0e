// RRDBNet: the RRDB encoder plus an upsampling head, used to pretrain the encoder with
// an L1 loss before ECDP training (SPEC §3). The encoder's parameter names are those of
// `RRDBEncoder`, so its weights transfer directly; the head (trunk_conv, upconv<k>,
// hr_conv, conv_last) is discarded afterwards.
import GradNN

public final class RRDBNet: Module {
    public let encoder: RRDBEncoder
    public let trunkConv: Conv2d
    public let upconvs: [Conv2d]
    public let hrConv: Conv2d
    public let convLast: Conv2d
    public var isTraining = true

    /// `scale` must be a power of two (one nearest ×2 + conv per factor of 2).
    public init(config: ModelConfig, scale: Int, using rng: inout RandomGenerator) {
        precondition(scale >= 2 && scale & (scale - 1) == 0, "RRDBNet scale \(scale) must be a power of two")
        encoder = RRDBEncoder(config: config, using: &rng)
        let nf = config.rrdbFeatures
        trunkConv = Conv2d(nf, nf, kernelSize: 3, padding: 1, using: &rng)
        upconvs = (0..<(scale.trailingZeroBitCount)).map { _ in Conv2d(nf, nf, kernelSize: 3, padding: 1, using: &rng) }
        hrConv = Conv2d(nf, nf, kernelSize: 3, padding: 1, using: &rng)
        convLast = Conv2d(nf, 3, kernelSize: 3, padding: 1, using: &rng)
    }

    public var children: [(name: String, module: any Module)] {
        encoder.children + [("trunk_conv", trunkConv)] + upconvs.enumerated().map { ("upconv\($0.offset + 1)", $0.element) }
            + [("hr_conv", hrConv), ("conv_last", convLast)]
    }

    /// LR `[N, 3, h, w]` → SR `[N, 3, h·scale, w·scale]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let first = encoder.convFirst(x)
        let trunk = encoder.blocks.reduce(first) { $1($0) }
        var h = first + trunkConv(trunk)
        for up in upconvs { h = up(h.upsampledNearest2x()).leakyReLU(slope: 0.2) }
        return convLast(hrConv(h).leakyReLU(slope: 0.2))
    }
}
