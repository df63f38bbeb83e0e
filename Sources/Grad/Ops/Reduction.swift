// Sums and means over all elements or over axes, and the L1 / MSE losses.
internal import GradKernels

extension Tensor {
    /// Sum of all elements, a rank-0 tensor (accumulated in Double across chunks).
    public func sum() -> Tensor {
        let total = withUnsafePointer { Reduce.total($0, count: count) }
        let shape = self.shape
        return Tensor(scalar: Float(total)).recorded("sum", inputs: [self]) { g in
            [Tensor(shape: shape, repeating: g.item)]
        }
    }

    /// Mean of all elements, a rank-0 tensor.
    public func mean() -> Tensor { sum() * (1 / Float(max(count, 1))) }

    /// Sum over `axes` (negative axes count from the end).
    public func sum(axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let ax = Set(axes.map { Shapes.axis($0, rank: rank) })
        let kept = shape.indices.map { ax.contains($0) ? 1 : shape[$0] }
        let inShape = shape
        let y = Tensor.computed(kept) { out in
            withUnsafePointer { Reduce.sum($0, shape: inShape, into: out, outShape: kept) }
        }.recorded("sumAxes", inputs: [self]) { g in
            // Broadcast the kept-dims gradient back over the input shape.
            [Tensor.broadcasting(.add, Tensor.zeros(inShape), g)]
        }
        return keepingDimensions ? y : y.reshaped(shape.indices.filter { !ax.contains($0) }.map { shape[$0] })
    }

    /// Mean over `axes`.
    public func mean(axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let n = Set(axes.map { Shapes.axis($0, rank: rank) }).reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepingDimensions: keepingDimensions) * (1 / Float(n))
    }
}

/// Reduction applied by the loss functions.
public enum LossReduction: Sendable {
    case mean, sum
}

/// Mean (or sum) absolute error `|prediction − target|`.
public func l1Loss(_ prediction: Tensor, _ target: Tensor, reduction: LossReduction = .mean) -> Tensor {
    let e = (prediction - target).abs()
    return reduction == .mean ? e.mean() : e.sum()
}

/// Mean (or sum) squared error `(prediction − target)²`.
public func mseLoss(_ prediction: Tensor, _ target: Tensor, reduction: LossReduction = .mean) -> Tensor {
    let e = (prediction - target).squared()
    return reduction == .mean ? e.mean() : e.sum()
}
