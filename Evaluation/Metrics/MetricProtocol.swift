// Named evaluation protocols (docs/design.md §7). A metric value is meaningless without the
// protocol it was computed under, so every result carries the protocol's name.
import Grad
import Imaging

public struct MetricProtocol: Sendable, Equatable, CustomStringConvertible {
    public enum Channels: String, Sendable { case rgb, luma }

    public let name: String
    public let channels: Channels
    /// Pixels removed from every border before comparison: the SR scale, or none.
    public let cropsBorderByScale: Bool

    /// The ECDP paper: RGB, no border crop, both images quantized to 8 bit, PSNR with
    /// data range 1, SSIM with an 11×11 Gaussian window (σ 1.5, K1 0.01, K2 0.03), no
    /// downsampling, averaged over channels.
    public static let ecdp = MetricProtocol(name: "ecdp", channels: .rgb, cropsBorderByScale: false)

    /// BasicSR: the Y channel (ITU-R BT.601), border crop = scale, otherwise as `ecdp`.
    public static let basicsr = MetricProtocol(name: "basicsr", channels: .luma, cropsBorderByScale: true)

    public static let all = [ecdp, basicsr]

    public static func named(_ name: String) -> MetricProtocol? { all.first { $0.name == name } }

    public var description: String {
        switch channels {
        case .rgb: return "\(name) (RGB, 8-bit, \(cropsBorderByScale ? "border crop = scale" : "no border crop"))"
        case .luma: return "\(name) (Y BT.601, 8-bit, \(cropsBorderByScale ? "border crop = scale" : "no border crop"))"
        }
    }

    /// The image as compared: quantized to 8 bit, converted to the protocol's channels,
    /// border cropped. Input `[3, H, W]` in [0, 1].
    public func prepared(_ image: Tensor, scale: Int) -> Tensor {
        var x = ColorSpace.quantized8(image)
        if channels == .luma { x = ColorSpace.luma(x) }
        return cropped(x, scale: scale)
    }

    /// The image LPIPS sees: quantized to 8 bit and border cropped like the other metrics,
    /// but always RGB (LPIPS's networks take colour images).
    public func preparedForLPIPS(_ image: Tensor, scale: Int) -> Tensor {
        cropped(ColorSpace.quantized8(image), scale: scale)
    }

    func cropped(_ x: Tensor, scale: Int) -> Tensor {
        let crop = cropsBorderByScale ? scale : 0
        guard crop > 0 else { return x }
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        return x.slice(start: [0, crop, crop], size: [c, max(h - 2 * crop, 0), max(w - 2 * crop, 0)])
    }
}
