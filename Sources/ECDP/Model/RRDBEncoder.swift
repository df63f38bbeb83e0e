// The LR feature extractor (docs/design.md §1, official lib/model/rrdb.py): conv_first, then RRDB
// blocks (each three residual dense blocks of five convs, growth gc, LeakyReLU 0.2,
// residual scale 0.2; conv weights and biases initialised ×0.1); the outputs of the
// selected blocks are concatenated.
import Grad
import GradNN

public final class ResidualDenseBlock: Module {
    public let convs: [Conv2d]
    public var isTraining = true

    public init(channels: Int, growth: Int, using rng: inout RandomGenerator) {
        convs = (0..<5).map { i in
            let conv = Conv2d(channels + i * growth, i == 4 ? channels : growth, kernelSize: 3, padding: 1, using: &rng)
            conv.weight.value = conv.weight.value * 0.1
            conv.bias!.value = conv.bias!.value * 0.1
            return conv
        }
    }

    public var children: [(name: String, module: any Module)] {
        convs.enumerated().map { ("conv\($0.offset + 1)", $0.element) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var features = [x]
        for conv in convs.dropLast() {
            features.append(conv(Tensor.concatenate(features, axis: 1)).leakyReLU(slope: 0.2))
        }
        return x + convs[4](Tensor.concatenate(features, axis: 1)) * 0.2
    }
}

public final class RRDBBlock: Module {
    public let blocks: [ResidualDenseBlock]
    public var isTraining = true

    public init(channels: Int, growth: Int, using rng: inout RandomGenerator) {
        blocks = (0..<3).map { _ in ResidualDenseBlock(channels: channels, growth: growth, using: &rng) }
    }

    public var children: [(name: String, module: any Module)] {
        blocks.enumerated().map { ("block\($0.offset + 1)", $0.element) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x + blocks.reduce(x) { $1($0) } * 0.2
    }
}

public final class RRDBEncoder: Module {
    public let convFirst: Conv2d
    public let blocks: [RRDBBlock]
    public let selection: [Int]
    public var isTraining = true

    public init(config: ModelConfig, inChannels: Int = 3, using rng: inout RandomGenerator) {
        convFirst = Conv2d(inChannels, config.rrdbFeatures, kernelSize: 3, padding: 1, using: &rng)
        blocks = (0..<config.rrdbBlocks).map { _ in
            RRDBBlock(channels: config.rrdbFeatures, growth: config.rrdbGrowth, using: &rng)
        }
        selection = config.rrdbSelection
    }

    public var children: [(name: String, module: any Module)] {
        [("conv_first", convFirst)] + blocks.enumerated().map { ("blocks.\($0.offset)", $0.element) }
    }

    /// LR `[N, 3, h, w]` → features `[N, nf·|selection|, h, w]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = convFirst(x)
        var selected: [Tensor] = []
        for (i, block) in blocks.enumerated() {
            h = block(h)
            if selection.contains(i) { selected.append(h) }
        }
        return selected.count == 1 ? selected[0] : Tensor.concatenate(selected, axis: 1)
    }
}
