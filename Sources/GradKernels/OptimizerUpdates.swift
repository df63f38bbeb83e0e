// The optimizers' per-element updates: Adam's step and the exponential moving average.
// Memory-bound passes over parameter-sized arrays (a 42 M-parameter model streams
// ~1.2 GB per Adam step), so they run on the engine's threads. Each element's arithmetic
// is independent of the split, so the bits do not depend on the thread count.

public enum OptimizerUpdates {
    /// Adam (torch.optim.Adam, no weight decay), in place:
    /// m ← m + (1 − β1)·(g − m) (torch.lerp), v ← β2·v + (1 − β2)·g²,
    /// p ← p − stepSize · m / (√v / √(1 − β2ᵗ) + ε), stepSize = lr / (1 − β1ᵗ).
    public static func adam(parameter p: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>,
                            firstMoment m: UnsafeMutablePointer<Float>, secondMoment v: UnsafeMutablePointer<Float>,
                            count: Int, beta1: Float, beta2: Float, epsilon: Float,
                            stepSize: Float, secondMomentCorrectionRoot bc2Sqrt: Float) {
        let w1 = 1 - beta1, w2 = 1 - beta2
        Parallel.forRanges(count: count) { r in
            for i in r {
                let gi = g[i]
                m[i] = m[i] + w1 * (gi - m[i])
                v[i] = v[i] * beta2 + w2 * gi * gi
                let denom = v[i].squareRoot() / bc2Sqrt + epsilon
                p[i] = p[i] - stepSize * (m[i] / denom)
            }
        }
    }

    /// average ← decay·average + (1 − decay)·value.
    public static func movingAverage(_ average: UnsafeMutablePointer<Float>, toward value: UnsafePointer<Float>,
                                     count: Int, decay: Float) {
        let w = 1 - decay
        Parallel.forRanges(count: count) { r in
            for i in r { average[i] = average[i] * decay + value[i] * w }
        }
    }
}
