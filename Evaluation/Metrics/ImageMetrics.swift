// PSNR, SSIM and LR-PSNR of one super-resolved image under a protocol.
import Foundation
import Grad
import Imaging

/// The metrics of one image, always with the protocol they were computed under.
public struct ImageMetrics: Sendable, Equatable {
    public var protocolName: String
    public var psnr: Double
    public var ssim: Double
    /// Consistency with the input: PSNR between the MATLAB-bicubic downscale of the SR
    /// output and the LR image (nil when no LR image was given).
    public var lrPSNR: Double?
    /// LPIPS v0.1 with the network named in `lpipsNetwork` (nil when not computed).
    public var lpips: Double?
    public var lpipsNetwork: LPIPSNetwork?

    public init(protocolName: String, psnr: Double, ssim: Double, lrPSNR: Double? = nil, lpips: Double? = nil,
                lpipsNetwork: LPIPSNetwork? = nil) {
        self.protocolName = protocolName
        self.psnr = psnr
        self.ssim = ssim
        self.lrPSNR = lrPSNR
        self.lpips = lpips
        self.lpipsNetwork = lpipsNetwork
    }
}

public enum MetricError: Error, CustomStringConvertible, Equatable {
    case sizeMismatch(String)
    case tooSmall(String)
    public var description: String {
        switch self { case .sizeMismatch(let s), .tooSmall(let s): return s }
    }
}

extension MetricProtocol {
    /// Metrics of `output` against `reference` (both `[3, H, W]` in [0, 1]); with `lr`,
    /// also LR-PSNR: `output` is downscaled by 1/`scale` with MATLAB bicubic, quantized
    /// to 8 bit and compared with `lr` in this protocol's channels, without border crop;
    /// with `lpips`, also LPIPS on the 8-bit RGB images, border cropped as the protocol says.
    public func evaluate(output: Tensor, reference: Tensor, lr: Tensor? = nil, scale: Int, lpips: LPIPS? = nil) throws -> ImageMetrics {
        guard output.shape == reference.shape else {
            throw MetricError.sizeMismatch("output is \(output.shape[2])×\(output.shape[1]) but the reference is \(reference.shape[2])×\(reference.shape[1])")
        }
        let o = prepared(output, scale: scale), r = prepared(reference, scale: scale)
        let window = SSIM.windowSize
        guard o.shape[1] >= window, o.shape[2] >= window else {
            let crop = cropsBorderByScale ? " after the \(name) protocol's \(scale)-pixel border crop" : ""
            throw MetricError.tooSmall("the images are \(o.shape[2])×\(o.shape[1])\(crop); SSIM needs at least \(window)×\(window)")
        }
        if lr != nil, output.shape[1] < scale || output.shape[2] < scale {
            throw MetricError.tooSmall("the output is \(output.shape[2])×\(output.shape[1]), too small to downscale ×1/\(scale) for LR-PSNR")
        }
        var lrPSNR: Double?
        if let lr {
            let down = MatlabResize.resize(ColorSpace.quantized8(output), scale: 1 / Double(scale))
            guard down.shape == lr.shape else {
                throw MetricError.sizeMismatch("the output downscaled ×1/\(scale) is \(down.shape[2])×\(down.shape[1]) but the LR image is \(lr.shape[2])×\(lr.shape[1])")
            }
            let flat = MetricProtocol(name: name, channels: channels, cropsBorderByScale: false)
            lrPSNR = PSNR.compute(flat.prepared(down, scale: scale), flat.prepared(lr, scale: scale))
        }
        let perceptual = lpips.map {
            Double($0.distance(preparedForLPIPS(output, scale: scale), preparedForLPIPS(reference, scale: scale)))
        }
        return ImageMetrics(protocolName: name, psnr: PSNR.compute(o, r), ssim: SSIM.compute(o, r), lrPSNR: lrPSNR,
                            lpips: perceptual, lpipsNetwork: lpips?.network)
    }
}
