// Data movement: axis permutation and window copies (concat, slice, crop are built on
// `readWindow` / `writeWindow`).

public enum Movement {
    /// Copies the window `[start, start + window)` of the contiguous `shape` array `big`
    /// into the contiguous `window`-shaped array `small`.
    public static func readWindow(_ big: UnsafePointer<Float>, shape: [Int], start: [Int], window: [Int],
                                  into small: UnsafeMutablePointer<Float>) {
        forEachRun(shape: shape, start: start, window: window) { off, row, inner in
            (small + row * inner).update(from: big + off, count: inner)
        }
    }

    /// Writes (or with `accumulate`, adds) the `window`-shaped array `small` into the
    /// window `[start, start + window)` of the contiguous `shape` array `big`.
    public static func writeWindow(_ small: UnsafePointer<Float>, into big: UnsafeMutablePointer<Float>,
                                   shape: [Int], start: [Int], window: [Int], accumulate: Bool = false) {
        forEachRun(shape: shape, start: start, window: window) { off, row, inner in
            let s = small + row * inner, b = big + off
            if accumulate { for i in 0..<inner { b[i] += s[i] } } else { b.update(from: s, count: inner) }
        }
    }

    /// Calls `body(offsetInBig, runIndex, runLength)` for each contiguous run of the window.
    @inline(__always)
    static func forEachRun(shape: [Int], start: [Int], window: [Int], _ body: (Int, Int, Int) -> Void) {
        let rank = shape.count
        let count = window.reduce(1, *)
        guard count > 0 else { return }
        var strides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
        // The run: trailing axes the window spans fully, times the first partial axis.
        var inner = 1, d = rank - 1
        while d >= 0 && window[d] == shape[d] { inner *= shape[d]; d -= 1 }
        if d >= 0 { inner *= window[d] }
        var base = 0
        for k in 0..<rank { base += start[k] * strides[k] }
        for row in 0..<(count / inner) {
            var rem = row, off = base
            var k = d - 1
            while k >= 0 {
                let i = rem % window[k]; rem /= window[k]
                off += i * strides[k]
                k -= 1
            }
            body(off, row, inner)
        }
    }

    /// `y = x.permuted(perm)`: y's axis i is x's axis `perm[i]`.
    public static func permute(_ x: UnsafePointer<Float>, shape: [Int], perm: [Int], into y: UnsafeMutablePointer<Float>) {
        let rank = shape.count
        var xStrides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { xStrides[d] = xStrides[d + 1] * shape[d + 1] }
        let outShape = perm.map { shape[$0] }
        let srcStrides = perm.map { xStrides[$0] }
        let count = shape.reduce(1, *)
        guard count > 0 else { return }
        let inner = outShape.last!, innerStride = srcStrides.last!
        let rows = count / inner
        Parallel.forEach(chunks: rows, work: count) { row in
            var rem = row, off = 0
            var k = rank - 2
            while k >= 0 {
                let i = rem % outShape[k]; rem /= outShape[k]
                off += i * srcStrides[k]
                k -= 1
            }
            let dst = y + row * inner, s = x + off
            for i in 0..<inner { dst[i] = s[i * innerStride] }
        }
    }
}
