// Architecture hyper-parameters of an ECDP model (docs/design.md §1).

public struct ModelConfig: Sendable, Equatable, Codable {
    /// U-Net channels per stage; `channels[0]` is also the width of `in_conv` (C0).
    public var channels: [Int]
    /// Residual blocks per stage on the down path (the up path has one more).
    public var blocks: [Int]
    /// RRDB encoder: features, growth channels, number of RRDB blocks, and which
    /// blocks' outputs are concatenated into the LR features.
    public var rrdbFeatures: Int
    public var rrdbGrowth: Int
    public var rrdbBlocks: Int
    public var rrdbSelection: [Int]

    public init(channels: [Int], blocks: [Int], rrdbFeatures: Int, rrdbGrowth: Int, rrdbBlocks: Int, rrdbSelection: [Int]) {
        self.channels = channels
        self.blocks = blocks
        self.rrdbFeatures = rrdbFeatures
        self.rrdbGrowth = rrdbGrowth
        self.rrdbBlocks = rrdbBlocks
        self.rrdbSelection = rrdbSelection
    }

    /// Channels of the concatenated LR features.
    public var lrFeatureChannels: Int { rrdbFeatures * rrdbSelection.count }

    /// Problems with the numbers, each named (empty when valid).
    public var problems: [String] {
        var p: [String] = []
        if channels.isEmpty { p.append("model.channels is empty") }
        if channels.count != blocks.count { p.append("model.channels has \(channels.count) stages but model.blocks has \(blocks.count)") }
        if channels.contains(where: { $0 < 16 || $0 % 16 != 0 }) {
            p.append("model.channels \(channels) must be multiples of 16 (the output GroupNorm uses 16 groups)")
        }
        if blocks.contains(where: { $0 < 1 }) { p.append("model.blocks \(blocks) must be ≥ 1") }
        if rrdbFeatures < 4 || rrdbFeatures % 4 != 0 { p.append("model.rrdb.features \(rrdbFeatures) must be a positive multiple of 4") }
        if rrdbGrowth < 1 { p.append("model.rrdb.growth must be ≥ 1") }
        if rrdbSelection.isEmpty || rrdbSelection.contains(where: { $0 < 0 || $0 >= rrdbBlocks }) {
            p.append("model.rrdb.selection \(rrdbSelection) must pick blocks in 0..<\(rrdbBlocks)")
        }
        return p
    }
}
