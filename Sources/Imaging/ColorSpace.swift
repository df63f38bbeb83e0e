// Colour conversions and quantization used by the metric protocols.
import Grad

public enum ColorSpace {
    /// Luma Y of ITU-R BT.601 on the [16, 235] scale, returned in [0, 1] units
    /// (y/255): y = 16 + 65.481·R + 128.553·G + 24.966·B for R, G, B in [0, 1]
    /// (MATLAB's `rgb2ycbcr`, BasicSR's `to_y_channel`). Input `[3, H, W]`, output `[1, H, W]`.
    public static func luma(_ rgb: Tensor) -> Tensor {
        precondition(rgb.rank == 3 && rgb.shape[0] == 3, "luma expects [3, H, W], got \(rgb.shape)")
        let plane = rgb.shape[1] * rgb.shape[2]
        return rgb.withUnsafePointer { p in
            Tensor(shape: [1, rgb.shape[1], rgb.shape[2]]) { out in
                for i in 0..<plane {
                    let y = 16 + 65.481 * Double(p[i]) + 128.553 * Double(p[plane + i]) + 24.966 * Double(p[2 * plane + i])
                    out[i] = Float(y / 255)
                }
            }
        }
    }

    /// Rounds to the nearest multiple of 1/255 after clamping to [0, 1] (what saving as
    /// an 8-bit PNG does).
    public static func quantized8(_ image: Tensor) -> Tensor {
        let values = image.scalars.map { v -> Float in (min(max(v.isNaN ? 0 : v, 0), 1) * 255).rounded() / 255 }
        return Tensor(values, shape: image.shape)
    }
}
