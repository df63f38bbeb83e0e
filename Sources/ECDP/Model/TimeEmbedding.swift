// Sinusoidal embedding of the diffusion time (t on the 0…300 scale), as the official
// `make_embed`: frequencies exp(−log(10000)·k/(half−1)), k < half, output [sin, cos].
import Foundation
import Grad

public enum TimeEmbedding {
    /// `[N]` times → `[N, channels]` (untracked: time is not differentiated).
    public static func sinusoidal(_ t: [Float], channels: Int) -> Tensor {
        precondition(channels % 2 == 0, "time embedding channels must be even")
        let half = channels / 2
        let scale = log(10000.0) / Double(half - 1)
        let freqs = (0..<half).map { Float(exp(Double($0) * -scale)) }
        var values = [Float](repeating: 0, count: t.count * channels)
        for (n, tn) in t.enumerated() {
            for k in 0..<half {
                let a = tn * freqs[k]
                values[n * channels + k] = Foundation.sin(a)
                values[n * channels + half + k] = Foundation.cos(a)
            }
        }
        return Tensor(values, shape: [t.count, channels])
    }
}
