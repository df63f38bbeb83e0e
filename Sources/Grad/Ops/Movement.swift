// Reshape, permute, concatenate, split, slice and crop. Reshape shares storage; the
// others copy through `Movement` kernels.
internal import GradKernels

extension Tensor {
    /// The same elements with a new shape (one axis may be −1).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            s[i] = known == 0 ? 0 : count / known
        }
        precondition(Shapes.count(s) == count, "cannot reshape \(shape) to \(newShape)")
        let old = shape
        return Tensor(storage: storage, shape: s).recorded("reshape", inputs: [self]) { g in
            [Tensor(storage: g.storage, shape: old)]
        }
    }

    /// Axes reordered: result axis i is this tensor's axis `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "permutation \(order) for rank \(rank)")
        let shape = self.shape
        let y = Tensor.computed(order.map { shape[$0] }) { out in
            withUnsafePointer { Movement.permute($0, shape: shape, perm: order, into: out) }
        }
        var inverse = order
        for (i, o) in order.enumerated() { inverse[o] = i }
        return y.recorded("permute", inputs: [self]) { [inverse] g in [g.permuted(inverse)] }
    }

    /// Matrix transpose of a rank-2 tensor.
    public var transposed: Tensor { permuted([1, 0]) }

    /// The window `[start, start + size)` along every axis.
    public func slice(start: [Int], size: [Int]) -> Tensor {
        precondition(start.count == rank && size.count == rank, "slice rank mismatch")
        for d in 0..<rank {
            precondition(start[d] >= 0 && size[d] >= 0 && start[d] + size[d] <= shape[d],
                         "slice [\(start), +\(size)) out of bounds for \(shape)")
        }
        if start.allSatisfy({ $0 == 0 }) && size == shape { return self }
        let shape = self.shape
        let y = Tensor.computed(size) { out in
            withUnsafePointer { Movement.readWindow($0, shape: shape, start: start, window: size, into: out) }
        }
        return y.recorded("slice", inputs: [self]) { g in
            [Tensor.computed(shape) { dx in
                dx.update(repeating: 0, count: Shapes.count(shape))
                g.withUnsafePointer { Movement.writeWindow($0, into: dx, shape: shape, start: start, window: size) }
            }]
        }
    }

    /// `[N, C, H, W]` cropped to its top-left `height × width` (the U-Net's skip alignment).
    public func cropped(height: Int, width: Int) -> Tensor {
        precondition(rank == 4, "crop expects [N, C, H, W], got \(shape)")
        return slice(start: [0, 0, 0, 0], size: [shape[0], shape[1], height, width])
    }

    /// Concatenation along `axis`.
    public static func concatenate(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "concatenate of no tensors")
        let a = Shapes.axis(axis, rank: parts[0].rank)
        var shape = parts[0].shape
        shape[a] = parts.reduce(0) { $0 + $1.shape[a] }
        for p in parts {
            precondition(p.rank == shape.count && p.shape.indices.allSatisfy { $0 == a || p.shape[$0] == shape[$0] },
                         "concatenate: shapes \(parts.map(\.shape)) differ off axis \(a)")
        }
        let sizes = parts.map { $0.shape[a] }
        let y = Tensor.computed(shape) { out in
            var offset = 0
            for p in parts {
                var start = [Int](repeating: 0, count: shape.count); start[a] = offset
                p.withUnsafePointer { Movement.writeWindow($0, into: out, shape: shape, start: start, window: p.shape) }
                offset += p.shape[a]
            }
        }
        return y.recorded("concatenate", inputs: parts) { g in g.split(sizes: sizes, axis: a).map { Optional($0) } }
    }

    /// Pieces of the given sizes along `axis`.
    public func split(sizes: [Int], axis: Int) -> [Tensor] {
        let a = Shapes.axis(axis, rank: rank)
        precondition(sizes.reduce(0, +) == shape[a], "split sizes \(sizes) do not add up to \(shape[a])")
        var offset = 0
        return sizes.map { n in
            var start = [Int](repeating: 0, count: rank), size = shape
            start[a] = offset; size[a] = n
            offset += n
            return slice(start: start, size: size)
        }
    }
}
