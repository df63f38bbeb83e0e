// Group normalization over NCHW data (PyTorch semantics: biased variance, ε inside the
// square root). Statistics are computed in Double per group, two-pass, for accuracy.
import Foundation

public enum Normalization {
    /// Forward. x, y `[N, C, HW]`; gamma, beta `[C]`; writes `mean` and `rstd` `[N·G]`.
    public static func groupNormForward(
        x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        batch: Int, channels: Int, plane: Int, groups: Int, epsilon: Float
    ) {
        let cpg = channels / groups, groupSize = cpg * plane
        Parallel.forEach(chunks: batch * groups, work: batch * channels * plane * 3) { i in
            let p = x + i * groupSize
            let m = Reduce.total(p, count: groupSize) / Double(groupSize)
            let mf = Float(m)
            var acc = SIMD8<Float>(repeating: 0)
            var j = 0
            while j + 8 <= groupSize {
                let d = UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self) - SIMD8(repeating: mf)
                acc += d * d
                j += 8
            }
            var v = Double(acc.sum())
            while j < groupSize { let d = Double(p[j]) - m; v += d * d; j += 1 }
            let r = Float(1 / (v / Double(groupSize) + Double(epsilon)).squareRoot())
            mean[i] = mf; rstd[i] = r
            let g0 = (i % groups) * cpg
            for c in 0..<cpg {
                let a = r * gamma[g0 + c], b = beta[g0 + c] - mf * a
                let src = p + c * plane, dst = y + i * groupSize + c * plane
                for k in 0..<plane { dst[k] = src[k] * a + b }
            }
        }
    }

    /// Backward. Writes dx `[N, C, HW]` and dgamma, dbeta `[C]` (overwritten).
    public static func groupNormBackward(
        x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
        dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
        batch: Int, channels: Int, plane: Int, groups: Int
    ) {
        let cpg = channels / groups, groupSize = cpg * plane
        // Per (n, c): Σ dy and Σ dy·x, the two sums everything else is built from.
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: batch * channels * 2)
        defer { sums.deallocate() }
        Parallel.forEach(chunks: batch * channels, work: batch * channels * plane * 2) { i in
            let px = x + i * plane, pg = dy + i * plane
            var s1 = SIMD8<Float>(repeating: 0), s2 = SIMD8<Float>(repeating: 0)
            var j = 0
            while j + 8 <= plane {
                let g = UnsafeRawPointer(pg + j).loadUnaligned(as: SIMD8<Float>.self)
                s1 += g
                s2 += g * UnsafeRawPointer(px + j).loadUnaligned(as: SIMD8<Float>.self)
                j += 8
            }
            var a = s1.sum(), b = s2.sum()
            while j < plane { a += pg[j]; b += pg[j] * px[j]; j += 1 }
            sums[2 * i] = a; sums[2 * i + 1] = b
        }
        for c in 0..<channels {
            var dg: Float = 0, dbv: Float = 0
            for n in 0..<batch {
                let i = n * channels + c, gi = n * groups + c / cpg
                let sdy = sums[2 * i], sdyx = sums[2 * i + 1]
                dbv += sdy
                dg += (sdyx - mean[gi] * sdy) * rstd[gi]
            }
            dgamma[c] = dg; dbeta[c] = dbv
        }
        Parallel.forEach(chunks: batch * groups, work: batch * channels * plane * 2) { i in
            let n = i / groups, g0 = (i % groups) * cpg
            let m = mean[i], r = rstd[i]
            // With xhat = (x − m)·r and dxhat = dy·γ:
            // dx = r·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat)).
            var sumDxhat: Float = 0, sumDxhatX: Float = 0
            for c in 0..<cpg {
                let k = n * channels + g0 + c
                sumDxhat += gamma[g0 + c] * sums[2 * k]
                sumDxhatX += gamma[g0 + c] * sums[2 * k + 1]
            }
            let inv = 1 / Float(groupSize)
            let meanDxhat = sumDxhat * inv
            // mean(dxhat·xhat) = r·(Σ dxhat·x − m·Σ dxhat)/size
            let meanDxhatXhat = r * (sumDxhatX - m * sumDxhat) * inv
            for c in 0..<cpg {
                let gam = gamma[g0 + c]
                let base = i * groupSize + c * plane
                let px = x + base, pg = dy + base, pd = dx + base
                // dx = r·γ·dy − r·meanDxhat − r·(x − m)·r·meanDxhatXhat, as a·dy + b·x + c0.
                let a = r * gam, b = -r * r * meanDxhatXhat
                let c0 = -r * meanDxhat + r * r * m * meanDxhatXhat
                for k in 0..<plane { pd[k] = a * pg[k] + b * px[k] + c0 }
            }
        }
    }
}
