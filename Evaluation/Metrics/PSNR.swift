// Peak signal-to-noise ratio with data range 1: 10·log10(1 / MSE), MSE over every
// element in Double. Identical images give +∞.
import Foundation
import Grad

public enum PSNR {
    public static func compute(_ a: Tensor, _ b: Tensor) -> Double {
        precondition(a.shape == b.shape, "PSNR of images with shapes \(a.shape) and \(b.shape)")
        let x = a.scalars, y = b.scalars
        var sum = 0.0
        for i in x.indices { let d = Double(x[i]) - Double(y[i]); sum += d * d }
        let mse = sum / Double(max(x.count, 1))
        return mse == 0 ? .infinity : 10 * log10(1 / mse)
    }
}
