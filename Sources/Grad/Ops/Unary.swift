// Elementwise unary functions and activations: one kernel call forward, one derivative
// kernel call backward (`Elementwise.applyDerivative` holds each f′).
internal import GradKernels

extension Tensor {
    /// `f` applied to every element, with its derivative recorded. (Internal: the public
    /// API is the named functions below, in Grad's own terms.)
    func applying(_ f: UnaryFunction) -> Tensor {
        let x = detached()
        let y = Tensor.computed(shape) { out in x.withUnsafePointer { Elementwise.apply(f, $0, out, count: count) } }
        return y.recorded("unary", inputs: [self]) { g in
            [Tensor.computed(g.shape) { dx in
                x.withUnsafePointer { px in y.withUnsafePointer { py in g.withUnsafePointer { pg in
                    Elementwise.applyDerivative(f, x: px, y: py, grad: pg, into: dx, count: g.count)
                } } }
            }]
        }
    }

    public func exp() -> Tensor { applying(.exp) }
    public func log() -> Tensor { applying(.log) }
    public func sin() -> Tensor { applying(.sin) }
    public func cos() -> Tensor { applying(.cos) }
    public func sqrt() -> Tensor { applying(.sqrt) }
    public func squared() -> Tensor { applying(.square) }
    public func abs() -> Tensor { applying(.abs) }
    public func tanh() -> Tensor { applying(.tanh) }
    /// `x^p` for a constant exponent.
    public func pow(_ p: Float) -> Tensor { applying(.power(p)) }
    /// Clamps into [lo, hi]; the gradient passes where lo ≤ x ≤ hi.
    public func clamped(to lo: Float, _ hi: Float) -> Tensor { applying(.clamp(lo: lo, hi: hi)) }

    public func relu() -> Tensor { applying(.relu) }
    public func sigmoid() -> Tensor { applying(.sigmoid) }
    /// x·σ(x), also called swish. Keeps σ(x) for the backward (one exp instead of two;
    /// exp is most of this op's cost).
    public func silu() -> Tensor {
        let x = detached()
        let s = Tensor.uninitialized(shape)
        let y = Tensor.computed(shape) { out in
            x.withUnsafePointer { Elementwise.siluForward($0, out, sigmoid: s.storage.pointer, count: count) }
        }
        guard isTracked && !Tape.isSuspended else { return y }
        return y.recorded("silu", inputs: [self]) { g in
            [Tensor.computed(g.shape) { dx in
                x.withUnsafePointer { px in s.withUnsafePointer { ps in g.withUnsafePointer { pg in
                    Elementwise.siluBackward(px, sigmoid: ps, grad: pg, into: dx, count: g.count)
                } } }
            }]
        }
    }
    /// x for x > 0, slope·x otherwise (ECDP's RRDB uses 0.2).
    public func leakyReLU(slope: Float = 0.2) -> Tensor { applying(.leakyReLU(slope: slope)) }
}
