// The three LPIPS feature networks: which torchvision architecture, which of its layers
// LPIPS reads, and the file name torchvision caches its ImageNet weights under.
import Backbones

public enum LPIPSNetwork: String, Sendable, CaseIterable, CustomStringConvertible {
    case alex, vgg, squeeze

    public var description: String { rawValue }

    /// A randomly initialised backbone (real weights are loaded into it).
    func makeBackbone() -> FeatureNetwork {
        switch self {
        case .alex: return .alexNet()
        case .vgg: return .vgg(depth: 16)
        case .squeeze: return .squeezeNet()
        }
    }

    /// The `features` indices whose outputs LPIPS compares (the ReLU outputs ending the
    /// `lpips` package's slices; every Fire module's output for SqueezeNet).
    var taps: [Int] { FeatureNetwork.lpipsTaps(backboneName)! }

    /// torchvision's name of the backbone.
    var backboneName: String {
        switch self {
        case .alex: return "alexnet"
        case .vgg: return "vgg16"
        case .squeeze: return "squeezenet1_1"
        }
    }

    /// Channels of each tap (the widths of the linear heads).
    var channels: [Int] {
        switch self {
        case .alex: return [64, 192, 384, 256, 256]
        case .vgg: return [64, 128, 256, 512, 512]
        case .squeeze: return [64, 128, 256, 384, 384, 512, 512]
        }
    }

    /// torchvision's cache file for the ImageNet weights (`$TORCH_HOME/hub/checkpoints/`).
    public var torchvisionFileName: String {
        switch self {
        case .alex: return "alexnet-owt-7be5be79.pth"
        case .vgg: return "vgg16-397923af.pth"
        case .squeeze: return "squeezenet1_1-b8a52dc0.pth"
        }
    }
}
