// Structural similarity (Wang et al. 2004) with an 11×11 Gaussian window (σ = 1.5,
// weights exp(−x²/2σ²) normalized), K1 = 0.01, K2 = 0.03, data range 1, population
// (not sample) covariances, evaluated only where the window fits inside the image
// ("valid"), averaged over the map and then over channels. This equals scikit-image's
// `structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)`
// and BasicSR's `calculate_ssim`.
import Foundation
import Grad

public enum SSIM {
    static let radius = 5
    /// The Gaussian window's side: images must be at least this wide and high.
    public static let windowSize = 2 * radius + 1
    static let window: [Double] = {
        let sigma = 1.5
        let w = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let s = w.reduce(0, +)
        return w.map { $0 / s }
    }()

    /// SSIM of two `[C, H, W]` images in [0, 1]; each side must be at least 11 pixels.
    public static func compute(_ a: Tensor, _ b: Tensor) -> Double {
        precondition(a.shape == b.shape && a.rank == 3, "SSIM of images with shapes \(a.shape) and \(b.shape)")
        let (c, h, w) = (a.shape[0], a.shape[1], a.shape[2])
        precondition(h > 2 * radius && w > 2 * radius, "SSIM needs images of at least 11×11 pixels, got \(h)×\(w)")
        let x = a.scalars.map(Double.init), y = b.scalars.map(Double.init)
        let c1 = 0.01 * 0.01, c2 = 0.03 * 0.03
        var total = 0.0
        for ch in 0..<c {
            let base = ch * h * w
            func plane(_ f: (Int) -> Double) -> [Double] { (0..<(h * w)).map { f(base + $0) } }
            let mx = filter(plane { x[$0] }, h, w), my = filter(plane { y[$0] }, h, w)
            let sxx = filter(plane { x[$0] * x[$0] }, h, w), syy = filter(plane { y[$0] * y[$0] }, h, w)
            let sxy = filter(plane { x[$0] * y[$0] }, h, w)
            var sum = 0.0
            for i in mx.indices {
                let vx = sxx[i] - mx[i] * mx[i], vy = syy[i] - my[i] * my[i], cxy = sxy[i] - mx[i] * my[i]
                sum += ((2 * mx[i] * my[i] + c1) * (2 * cxy + c2)) / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2))
            }
            total += sum / Double(mx.count)
        }
        return total / Double(c)
    }

    /// Valid separable Gaussian filtering of an `h × w` plane → `(h − 10) × (w − 10)`.
    static func filter(_ p: [Double], _ h: Int, _ w: Int) -> [Double] {
        let oh = h - 2 * radius, ow = w - 2 * radius, k = 2 * radius + 1
        var rows = [Double](repeating: 0, count: h * ow)
        for r in 0..<h {
            for o in 0..<ow {
                var s = 0.0
                for t in 0..<k { s += window[t] * p[r * w + o + t] }
                rows[r * ow + o] = s
            }
        }
        var out = [Double](repeating: 0, count: oh * ow)
        for o in 0..<oh {
            for t in 0..<k {
                let wt = window[t], src = (o + t) * ow
                for col in 0..<ow { out[o * ow + col] += wt * rows[src + col] }
            }
        }
        return out
    }
}
