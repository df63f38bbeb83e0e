// LPIPS v0.1 (Zhang et al., CVPR 2018; the `lpips` package 0.1.4): images in [0, 1] →
// [−1, 1] → (x − shift)/scale with LPIPS's constants → the backbone's taps; each tap is
// unit-normalised over channels (x / (‖x‖₂ + 1e-10)), the squared difference of the two
// images' taps is weighted per channel by the linear head (a 1×1 convolution, no bias),
// averaged over space, and the layers are summed. Any image size. docs/metrics.md.
import Backbones
import Grad
import GradNN

public final class LPIPS {
    public let network: LPIPSNetwork
    let backbone: FeatureNetwork
    /// One `[1, C, 1, 1]` head per tap.
    let heads: [Tensor]

    static let shift = Tensor([-0.030, -0.088, -0.188], shape: [1, 3, 1, 1])
    static let scale = Tensor([0.458, 0.448, 0.450], shape: [1, 3, 1, 1])

    /// - Parameters: `backbone` torchvision `features.*` weights (other keys, such as the
    ///   classifier's, are ignored); `heads` the LPIPS heads `heads.<k>.weight`.
    public init(network: LPIPSNetwork, backbone weights: [String: Tensor], heads headWeights: [String: Tensor]) throws {
        self.network = network
        backbone = network.makeBackbone()
        let expected = Set(backbone.stateDict().keys)
        let features = weights.filter { expected.contains($0.key) }
        let missing = expected.subtracting(features.keys).sorted()
        guard missing.isEmpty else {
            throw LPIPSError("the \(network) backbone weights lack \(missing.count) of the \(expected.count) torchvision features.* tensors "
                + "(e.g. \(missing.prefix(3).joined(separator: ", "))); is this a torchvision \(network.torchvisionFileName)-style file?")
        }
        do { try backbone.load(features) } catch { throw LPIPSError("the \(network) backbone weights do not fit: \(error)") }
        heads = try network.channels.enumerated().map { k, c in
            guard let w = headWeights["heads.\(k).weight"] else {
                throw LPIPSError("the LPIPS \(network) heads lack heads.\(k).weight")
            }
            guard w.shape == [1, c, 1, 1] else {
                throw LPIPSError("the LPIPS \(network) head \(k) has shape \(w.shape), expected [1, \(c), 1, 1]")
            }
            return w
        }
    }

    /// The distance between each pair of images `[N, 3, H, W]` (or one pair `[3, H, W]`),
    /// values in [0, 1].
    public func distances(_ x: Tensor, _ y: Tensor) -> [Float] {
        precondition(x.shape == y.shape, "LPIPS compares images of one size, got \(x.shape) and \(y.shape)")
        let batched = x.rank == 3 ? [x.reshaped([1] + x.shape), y.reshaped([1] + y.shape)] : [x, y]
        return withoutDerivatives {
            let taps = [features(batched[0]), features(batched[1])]
            var total: Tensor?
            for (k, head) in heads.enumerated() {
                let d = (taps[0][k] - taps[1][k]).squared()
                let layer = Tensor.conv2d(d, weight: head, bias: nil, stride: 1, padding: 0).mean(axes: [1, 2, 3])
                total = total.map { $0 + layer } ?? layer
            }
            return total!.scalars
        }
    }

    /// The distance of one pair `[3, H, W]`.
    public func distance(_ x: Tensor, _ y: Tensor) -> Float { distances(x, y)[0] }

    /// The normalised taps of images in [0, 1].
    func features(_ image: Tensor) -> [Tensor] {
        let input = (image * 2 - 1 - Self.shift) / Self.scale
        return backbone(input, taps: network.taps).map { f in
            f / (f.squared().sum(axes: [1], keepingDimensions: true).sqrt() + 1e-10)
        }
    }
}

/// LPIPS could not be set up: the reason in one line.
public struct LPIPSError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
