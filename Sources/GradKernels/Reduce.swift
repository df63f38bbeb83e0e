// Reductions. Sums accumulate in fixed-size chunks combined in a fixed order, so the
// result does not depend on the number of threads.

public enum Reduce {
    /// Sum of a contiguous run, 8 independent accumulators (vectorizes, and is more
    /// accurate than one running sum).
    @inlinable
    public static func sum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= n {
            acc += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var s = acc.sum()
        while i < n { s += x[i]; i += 1 }
        return s
    }

    /// Sum of all elements, accumulated per chunk in Float and across chunks in Double.
    public static func total(_ x: UnsafePointer<Float>, count n: Int) -> Double {
        let grain = 1 << 14
        let chunks = (n + grain - 1) / grain
        if chunks <= 1 { return Double(sum(x, count: n)) }
        var partial = [Double](repeating: 0, count: chunks)
        partial.withUnsafeMutableBufferPointer { p in
            let p = p.baseAddress!
            Parallel.forEach(chunks: chunks, work: n) { c in
                let lo = c * grain
                p[c] = Double(sum(x + lo, count: min(grain, n - lo)))
            }
        }
        return partial.reduce(0, +)
    }

    /// Sums `x` (contiguous, `shape`) over the axes where `outShape` is 1, writing the
    /// kept-dims result (contiguous, `outShape`) to `out`. `outShape` has the same rank.
    public static func sum(_ x: UnsafePointer<Float>, shape: [Int], into out: UnsafeMutablePointer<Float>, outShape: [Int]) {
        let count = shape.reduce(1, *)
        let outCount = outShape.reduce(1, *)
        out.update(repeating: 0, count: outCount)
        guard count > 0 else { return }
        // Strides of the output viewed over the input's shape (0 on reduced axes).
        var outStrides = [Int](repeating: 0, count: shape.count)
        var s = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            outStrides[d] = outShape[d] == 1 ? 0 : s
            s *= outShape[d]
        }
        var inStrides = [Int](repeating: 0, count: shape.count)
        s = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) { inStrides[d] = s; s *= shape[d] }
        let (dims, si, so) = Elementwise.collapse(shape: shape, inStrides, outStrides)
        let inner = dims.last!, reducedInner = so.last! == 0
        let outer = count / inner
        for row in 0..<outer {
            let (oi, oo) = Elementwise.rowOffsets(row, dims, si, so)
            let px = x + oi, po = out + oo
            if reducedInner {
                po[0] += sum(px, count: inner)
            } else {
                for i in 0..<inner { po[i] += px[i] }
            }
        }
    }
}
