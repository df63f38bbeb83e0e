// The U-Net's residual block (BigGAN style), conditioned on time and LR features:
//   h = conv1(SiLU(GN1(x))) + Linear(t_emb) + conv1x1(bilinear(lr_feats → size of h))
//   h = conv2(SiLU(GN2(h)));  return skip(x) + h
// Parameter names follow the official code (`conv1.network.weight`, …).
import Grad
import GradNN

public final class ResnetBlock: Module {
    public let timeIn: Linear
    public let extraIn: Conv2d
    public let norm1: GroupNorm
    public let conv1: Conv2d
    public let norm2: GroupNorm
    public let conv2: Conv2d
    public let skip: Conv2d?
    public var isTraining = true

    public init(_ inChannels: Int, _ outChannels: Int, timeChannels: Int, extraChannels: Int,
                using rng: inout RandomGenerator) {
        timeIn = Linear(timeChannels, outChannels, using: &rng)
        extraIn = Conv2d(extraChannels, outChannels, kernelSize: 1, biasInit: .zeros, using: &rng)
        norm1 = GroupNorm(groups: min(inChannels / 4, 32), channels: inChannels)
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1, biasInit: .zeros, using: &rng)
        norm2 = GroupNorm(groups: min(outChannels / 4, 32), channels: outChannels)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, initScale: 1e-3, biasInit: .zeros, using: &rng)
        skip = inChannels == outChannels ? nil
            : Conv2d(inChannels, outChannels, kernelSize: 1, initScale: 0.1, biasInit: .zeros, using: &rng)
    }

    public var children: [(name: String, module: any Module)] {
        var c: [(name: String, module: any Module)] = [
            ("time_in", timeIn), ("extra_in.network", extraIn), ("norm1", norm1), ("conv1.network", conv1),
            ("norm2", norm2), ("conv2.network", conv2),
        ]
        if let skip { c.append(("skip.network", skip)) }
        return c
    }

    /// x `[N, in, H, W]`, timeEmbedding `[N, 512]`, lrFeatures already resized to H×W.
    public func callAsFunction(_ x: Tensor, timeEmbedding: Tensor, lrFeatures: Tensor) -> Tensor {
        let t = timeIn(timeEmbedding)
        var h = conv1(norm1(x, thenSiLU: true))
        h = h + t.reshaped([t.shape[0], t.shape[1], 1, 1])
        h = h + extraIn(lrFeatures)
        h = conv2(norm2(h, thenSiLU: true))
        return (skip.map { $0(x) } ?? x) + h
    }
}
