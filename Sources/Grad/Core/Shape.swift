// Shape arithmetic: element counts, contiguous strides and NumPy/PyTorch broadcasting.

public enum Shapes {
    public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Row-major strides of a contiguous array of `shape`.
    public static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { s[d] = s[d + 1] * shape[d + 1] }
        return s
    }

    /// The broadcast shape of `a` and `b` (trailing axes aligned; size 1 stretches).
    public static func broadcast(_ a: [Int], _ b: [Int]) -> [Int] {
        let rank = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: rank - a.count) + a
        let pb = [Int](repeating: 1, count: rank - b.count) + b
        return (0..<rank).map { d in
            precondition(pa[d] == pb[d] || pa[d] == 1 || pb[d] == 1,
                         "shapes \(a) and \(b) do not broadcast (axis \(d): \(pa[d]) vs \(pb[d]))")
            return pa[d] == 1 ? pb[d] : pa[d]
        }
    }

    /// Strides of a contiguous `shape` read as if broadcast to `target` (0 on stretched axes).
    public static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: target.count - shape.count) + shape
        let s = strides(padded)
        return (0..<target.count).map { padded[$0] == 1 && target[$0] != 1 ? 0 : s[$0] }
    }

    /// Normalizes a possibly negative axis.
    public static func axis(_ axis: Int, rank: Int) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < rank, "axis \(axis) out of range for rank \(rank)")
        return a
    }
}
