// Group normalization over NCHW data (PyTorch semantics: biased variance, ε inside the
// square root). Statistics are computed in Double per group, two-pass, for accuracy.
import Foundation

public enum Normalization {
    /// Mean and 1/√(var + ε) of `count` floats (biased variance; two passes, the mean
    /// in Double).
    @inline(__always)
    static func statistics(_ p: UnsafePointer<Float>, count: Int, epsilon: Float) -> (mean: Float, rstd: Float) {
        let m = Reduce.total(p, count: count) / Double(count)
        let mf = Float(m)
        var acc = SIMD8<Float>(repeating: 0)
        var j = 0
        while j + 8 <= count {
            let d = UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self) - SIMD8(repeating: mf)
            acc += d * d
            j += 8
        }
        var v = Double(acc.sum())
        while j < count { let d = Double(p[j]) - m; v += d * d; j += 1 }
        return (mf, Float(1 / (v / Double(count) + Double(epsilon)).squareRoot()))
    }

    /// Forward. x, y `[N, C, HW]`; gamma, beta `[C]`; writes `mean` and `rstd` `[N·G]`.
    /// With `silu`, y = SiLU(GroupNorm(x)) in the same pass (see `groupNormSiLUBackward`).
    public static func groupNormForward(
        x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        batch: Int, channels: Int, plane: Int, groups: Int, epsilon: Float, silu: Bool = false
    ) {
        let cpg = channels / groups, groupSize = cpg * plane
        Parallel.forEach(chunks: batch * groups, work: batch * channels * plane * 3) { i in
            let p = x + i * groupSize
            let (mf, r) = statistics(p, count: groupSize, epsilon: epsilon)
            mean[i] = mf; rstd[i] = r
            let g0 = (i % groups) * cpg
            for c in 0..<cpg {
                let a = r * gamma[g0 + c], b = beta[g0 + c] - mf * a
                let src = p + c * plane, dst = y + i * groupSize + c * plane
                if silu {
                    let av = FloatVector(repeating: a), bv = FloatVector(repeating: b)
                    FastMath.map(src, dst, plane) { v in
                        let z = v * av + bv
                        return z * FastMath.sigmoid(z)
                    }
                } else {
                    for k in 0..<plane { dst[k] = src[k] * a + b }
                }
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
        finishBackward(x: x, gamma: gamma, mean: mean, rstd: rstd, dy: dy, sums: sums, dx: dx,
                       dgamma: dgamma, dbeta: dbeta, batch: batch, channels: channels, plane: plane, groups: groups)
    }

    /// Backward of y = SiLU(GroupNorm(x)) from x alone: z = GroupNorm(x) and σ(z) are
    /// recomputed (one exp per element) instead of kept from the forward, then
    /// dz = dy·σ·(1 + z·(1 − σ)) is written into dx and the GroupNorm backward finishes
    /// in place. Against GroupNorm and SiLU as two ops, the forward saves writing z and
    /// σ and reading z; the backward one full pass.
    public static func groupNormSiLUBackward(
        x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
        dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
        batch: Int, channels: Int, plane: Int, groups: Int
    ) {
        let cpg = channels / groups
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: batch * channels * 2)
        defer { sums.deallocate() }
        Parallel.forEach(chunks: batch * channels, work: batch * channels * plane * 4) { i in
            let c = i % channels, gi = (i / channels) * groups + c / cpg
            let a = rstd[gi] * gamma[c], b = beta[c] - mean[gi] * a
            let px = x + i * plane, pg = dy + i * plane, pz = dx + i * plane
            let av = FloatVector(repeating: a), bv = FloatVector(repeating: b)
            var s1 = FloatVector(repeating: 0), s2 = FloatVector(repeating: 0)
            @inline(__always) func gradient(_ xv: FloatVector, _ gv: FloatVector) -> FloatVector {
                let z = xv * av + bv
                let s = FastMath.sigmoid(z)
                return gv * s * (1 + z * (1 - s))
            }
            var k = 0
            while k + 8 <= plane {
                let xv = UnsafeRawPointer(px + k).loadUnaligned(as: FloatVector.self)
                let dz = gradient(xv, UnsafeRawPointer(pg + k).loadUnaligned(as: FloatVector.self))
                UnsafeMutableRawPointer(pz + k).storeBytes(of: dz, as: FloatVector.self)
                s1 += dz
                s2 += dz * xv
                k += 8
            }
            if k < plane {
                // The tail through zero-padded vectors: padding lanes have dy = 0, so dz = 0.
                var xv = FloatVector(repeating: 0), gv = FloatVector(repeating: 0)
                for j in 0..<(plane - k) { xv[j] = px[k + j]; gv[j] = pg[k + j] }
                let dz = gradient(xv, gv)
                for j in 0..<(plane - k) { pz[k + j] = dz[j] }
                s1 += dz
                s2 += dz * xv
            }
            sums[2 * i] = s1.sum(); sums[2 * i + 1] = s2.sum()
        }
        finishBackward(x: x, gamma: gamma, mean: mean, rstd: rstd, dy: UnsafePointer(dx), sums: sums, dx: dx,
                       dgamma: dgamma, dbeta: dbeta, batch: batch, channels: channels, plane: plane, groups: groups)
    }

    /// The GroupNorm backward from the per-(n, c) sums Σ dy and Σ dy·x: dgamma, dbeta, and
    /// dx (which may be the same memory as dy: each element is read, then written).
    private static func finishBackward(
        x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        dy: UnsafePointer<Float>, sums: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
        dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
        batch: Int, channels: Int, plane: Int, groups: Int
    ) {
        let cpg = channels / groups, groupSize = cpg * plane
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
