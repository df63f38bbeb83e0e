// Elementwise arithmetic with NumPy/PyTorch broadcasting. Pullbacks return gradients in
// the broadcast shape; the tape sums them back to each input's shape.
internal import GradKernels

extension Tensor {
    static func broadcasting(_ f: BinaryFunction, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = a.shape == b.shape ? a.shape : Shapes.broadcast(a.shape, b.shape)
        return Tensor.computed(shape) { out in
            a.withUnsafePointer { pa in
                b.withUnsafePointer { pb in
                    if a.shape == b.shape, f == .add || f == .multiply || f == .subtract {
                        Elementwise.binary(f, pa, aStrides: [1], pb, bStrides: [1], into: out, shape: [a.count])
                    } else {
                        Elementwise.binary(f, pa, aStrides: Shapes.broadcastStrides(a.shape, to: shape),
                                           pb, bStrides: Shapes.broadcastStrides(b.shape, to: shape),
                                           into: out, shape: shape)
                    }
                }
            }
        }
    }

    /// Elementwise sum (broadcasting).
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(.add, a, b).recorded("add", inputs: [a, b]) { g in [g, g] }
    }

    /// Elementwise difference (broadcasting).
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(.subtract, a, b).recorded("subtract", inputs: [a, b]) { g in [g, -g] }
    }

    /// Elementwise product (broadcasting). d(ab) = b·da + a·db.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let av = a.detached(), bv = b.detached(), ta = a.isTracked, tb = b.isTracked
        return broadcasting(.multiply, a, b).recorded("multiply", inputs: [a, b]) { g in
            [ta ? g * bv : nil, tb ? g * av : nil]
        }
    }

    /// Elementwise quotient (broadcasting). d(a/b) = da/b − a·db/b².
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let av = a.detached(), bv = b.detached(), ta = a.isTracked, tb = b.isTracked
        return broadcasting(.divide, a, b).recorded("divide", inputs: [a, b]) { g in
            [ta ? g / bv : nil, tb ? -(g * av / (bv * bv)) : nil]
        }
    }

    public static prefix func - (x: Tensor) -> Tensor { x.applying(.negate) }

    /// `x · scale + shift` for constants, one pass.
    public func affine(scale: Float, shift: Float = 0) -> Tensor { applying(.affine(scale: scale, shift: shift)) }

    public static func + (x: Tensor, s: Float) -> Tensor { x.affine(scale: 1, shift: s) }
    public static func + (s: Float, x: Tensor) -> Tensor { x.affine(scale: 1, shift: s) }
    public static func - (x: Tensor, s: Float) -> Tensor { x.affine(scale: 1, shift: -s) }
    public static func - (s: Float, x: Tensor) -> Tensor { x.affine(scale: -1, shift: s) }
    public static func * (x: Tensor, s: Float) -> Tensor { x.affine(scale: s) }
    public static func * (s: Float, x: Tensor) -> Tensor { x.affine(scale: s) }
    public static func / (x: Tensor, s: Float) -> Tensor { x.affine(scale: 1 / s) }
}
