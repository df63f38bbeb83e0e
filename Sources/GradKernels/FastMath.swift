// A vectorizable exp for the activation kernels, and SIMD map helpers. Range reduction
// e^x = 2^n · e^r with n = round(x·log2 e) (by the 1.5·2²³ trick: no rounding instruction
// on baseline x86-64), r = x − n·ln 2 (ln 2 split in two for accuracy), then a degree-6
// polynomial for e^r on [−ln2/2, ln2/2] (Cephes expf coefficients): relative error about
// 2e-7, within 2 ulp of libm's expf on [−87.3, 88.3]; +inf past ln(Float.max), 0 below −87.3
// (subnormals flushed), exp(88.3) between 88.3 and 88.72, NaN kept (tested).

public typealias FloatVector = SIMD8<Float>

public enum FastMath {
    /// e^r ≈ 1 + r + r²·(c5 + r·(c4 + r·(c3 + r·(c2 + r·(c1 + r·c0))))) on [−ln2/2, ln2/2]
    /// (Cephes expf), shared by the scalar and the SIMD `exp`.
    @usableFromInline
    static let polynomial: (Float, Float, Float, Float, Float, Float) =
        (1.987_569_15e-4, 1.398_199_95e-3, 8.333_451_9e-3, 4.166_579_6e-2, 0.166_666_655, 0.5)

    /// e^x, written so LLVM's loop vectorizer widens loops that call it (no calls, no
    /// trapping conversions; the clamp keeps 2^n representable).
    @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let xc = x < -87.3 ? -87.3 : (x > 88.3 ? 88.3 : x)
        let magic: Float = 12_582_912
        let t = xc * 1.442_695_04 + magic
        let n = t - magic
        var r = xc - n * 0.693_359_375
        r = r - n * -2.121_944_4e-4
        let c = polynomial
        var p = c.0
        p = p * r + c.1
        p = p * r + c.2
        p = p * r + c.3
        p = p * r + c.4
        p = p * r + c.5
        p = p * r * r + r + 1
        let ni = t.bitPattern &- magic.bitPattern
        let y = p * Float(bitPattern: (ni &+ 127) &<< 23)
        // Past Float's range: +inf above ln(Float.max), 0 below −87.3 (subnormal results are
        // flushed); NaN passes through the arithmetic.
        return x > 88.72 ? .infinity : (x < -87.3 ? 0 : y)
    }

    /// e^x on eight lanes: the same polynomial as the scalar `exp`, for loops the
    /// auto-vectorizer will not widen (floating-point reductions, several outputs).
    @inline(__always)
    public static func exp(_ x: FloatVector) -> FloatVector {
        // Clamp by masked selects (`clamped` goes through a per-lane generic min/max).
        let xc = x.replacing(with: -87.3, where: x .< -87.3).replacing(with: 88.3, where: x .> 88.3)
        let magic = FloatVector(repeating: 12_582_912)
        let t = xc * 1.442_695_04 + magic
        let n = t - magic
        var r = xc - n * 0.693_359_375
        r = r - n * -2.121_944_4e-4
        let c = polynomial
        var p = FloatVector(repeating: c.0)
        p = p * r + c.1
        p = p * r + c.2
        p = p * r + c.3
        p = p * r + c.4
        p = p * r + c.5
        p = p * r * r + r + 1
        let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let y = p * unsafeBitCast((ni &+ 127) &<< 23, to: FloatVector.self)
        return y.replacing(with: .infinity, where: x .> 88.72).replacing(with: 0, where: x .< -87.3)
    }

    /// σ(x) = 1 / (1 + e^−x) on eight lanes.
    @inline(__always)
    public static func sigmoid(_ x: FloatVector) -> FloatVector {
        1 / (1 + exp(-x))
    }

    /// Applies `f` to `n` floats eight at a time; the tail goes through a padded vector.
    @inline(__always)
    public static func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                           _ f: (FloatVector) -> FloatVector) {
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: FloatVector.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: f(v), as: FloatVector.self)
            i += 8
        }
        if i < n {
            var v = FloatVector(repeating: 0)
            for k in 0..<(n - i) { v[k] = x[i + k] }
            let r = f(v)
            for k in 0..<(n - i) { y[i + k] = r[k] }
        }
    }

    /// `out = f(a, b)` eight at a time.
    @inline(__always)
    public static func map2(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                            _ n: Int, _ f: (FloatVector, FloatVector) -> FloatVector) {
        var i = 0
        while i + 8 <= n {
            let va = UnsafeRawPointer(a + i).loadUnaligned(as: FloatVector.self)
            let vb = UnsafeRawPointer(b + i).loadUnaligned(as: FloatVector.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: f(va, vb), as: FloatVector.self)
            i += 8
        }
        if i < n {
            var va = FloatVector(repeating: 0), vb = FloatVector(repeating: 0)
            for k in 0..<(n - i) { va[k] = a[i + k]; vb[k] = b[i + k] }
            let r = f(va, vb)
            for k in 0..<(n - i) { out[i + k] = r[k] }
        }
    }
}
