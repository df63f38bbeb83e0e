// The denoising U-Net (docs/design.md §1, official lib/model/unet.py): in_conv, down stages of
// residual blocks with stride-2 convs between them, two middle blocks, up stages of
// `blocks + 1` residual blocks on [x, skip] concatenations with nearest ×2 + conv
// between them, and GN–SiLU–conv out to 6 channels (ε̂ and x̂0).
import Grad
import GradNN

public final class UNet: Module {
    /// One entry of the down or up path.
    enum Layer {
        case block(ResnetBlock)
        case down(Conv2d)
        case up(Conv2d)
    }

    public static let timeChannels = 128
    public let timeIn0: Linear, timeIn2: Linear
    public let inConv: Conv2d
    let downs: [Layer]
    public let mid: [ResnetBlock]
    let ups: [Layer]
    public let outNorm: GroupNorm
    public let outConv: Conv2d
    public var isTraining = true

    public init(config: ModelConfig, inChannels: Int = 3, using rng: inout RandomGenerator) {
        let tc = Self.timeChannels, te = 4 * tc, extra = config.lrFeatureChannels
        timeIn0 = Linear(tc, te, using: &rng)
        timeIn2 = Linear(te, te, using: &rng)
        inConv = Conv2d(inChannels, config.channels[0], kernelSize: 3, padding: 1, biasInit: .zeros, using: &rng)
        var prev = config.channels[0]
        var featChannels = [prev]
        var downs: [Layer] = []
        for (i, ch) in config.channels.enumerated() {
            for _ in 0..<config.blocks[i] {
                downs.append(.block(ResnetBlock(prev, ch, timeChannels: te, extraChannels: extra, using: &rng)))
                featChannels.append(ch)
                prev = ch
            }
            if i < config.channels.count - 1 {
                downs.append(.down(Conv2d(prev, prev, kernelSize: 3, stride: 2, padding: 1, biasInit: .zeros, using: &rng)))
                featChannels.append(prev)
            }
        }
        self.downs = downs
        mid = [ResnetBlock(prev, prev, timeChannels: te, extraChannels: extra, using: &rng),
               ResnetBlock(prev, prev, timeChannels: te, extraChannels: extra, using: &rng)]
        var ups: [Layer] = []
        for i in stride(from: config.channels.count - 1, through: 0, by: -1) {
            for _ in 0...config.blocks[i] {
                let res = featChannels.removeLast()
                ups.append(.block(ResnetBlock(prev + res, config.channels[i], timeChannels: te, extraChannels: extra, using: &rng)))
                prev = config.channels[i]
            }
            if i > 0 { ups.append(.up(Conv2d(prev, prev, kernelSize: 3, padding: 1, biasInit: .zeros, using: &rng))) }
        }
        self.ups = ups
        outNorm = GroupNorm(groups: 16, channels: prev)
        outConv = Conv2d(prev, 2 * inChannels, kernelSize: 3, padding: 1, biasInit: .zeros, using: &rng)
    }

    public var children: [(name: String, module: any Module)] {
        func named(_ prefix: String, _ layers: [Layer]) -> [(name: String, module: any Module)] {
            layers.enumerated().map { i, l in
                switch l {
                case .block(let b): return ("\(prefix).\(i)", b)
                case .down(let c): return ("\(prefix).\(i).downconv.network", c)
                case .up(let c): return ("\(prefix).\(i).upconv.1.network", c)
                }
            }
        }
        return [("time_in.0", timeIn0), ("time_in.2", timeIn2), ("in_conv.network", inConv)]
            + named("downs", downs)
            + mid.enumerated().map { ("mid.\($0.offset)", $0.element) }
            + named("ups", ups)
            + [("out_conv.0", outNorm), ("out_conv.2.network", outConv)]
    }

    /// x `[N, 3, H, W]`, times `[N]` (0…300 scale), lrFeatures `[N, F, h, w]` →
    /// `[N, 6, H, W]` (ε̂ then x̂0).
    public func callAsFunction(_ x: Tensor, times: [Float], lrFeatures: Tensor) -> Tensor {
        let emb = TimeEmbedding.sinusoidal(times, channels: Self.timeChannels)
        let t = timeIn2(timeIn0(emb).silu()).silu()
        // LR features resized (bilinear, PyTorch semantics) once per resolution; every
        // block at that resolution shares the result.
        var resized: [[Int]: Tensor] = [:]
        func features(like h: Tensor) -> Tensor {
            let size = [h.shape[2], h.shape[3]]
            if let f = resized[size] { return f }
            let f = lrFeatures.resized(height: size[0], width: size[1], mode: .bilinear)
            resized[size] = f
            return f
        }
        var h = inConv(x)
        var skips = [h]
        for layer in downs {
            switch layer {
            case .block(let b): h = b(h, timeEmbedding: t, lrFeatures: features(like: h))
            case .down(let c): h = c(h)
            case .up: preconditionFailure("up layer on the down path")
            }
            skips.append(h)
        }
        for b in mid { h = b(h, timeEmbedding: t, lrFeatures: features(like: h)) }
        for layer in ups {
            switch layer {
            case .block(let b):
                let skip = skips.removeLast()
                // The up-sampled map can be one pixel larger than its skip (odd sizes).
                h = Tensor.concatenate([h.cropped(height: skip.shape[2], width: skip.shape[3]), skip], axis: 1)
                h = b(h, timeEmbedding: t, lrFeatures: features(like: h))
            case .up(let c): h = c(h.upsampledNearest2x())
            case .down: preconditionFailure("down layer on the up path")
            }
        }
        return outConv(outNorm(h, thenSiLU: true))
    }
}
