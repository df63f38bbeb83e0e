// Elementwise loops: unary maps, their derivatives, and broadcasting binary ops.
// Each public entry switches on the function once, outside the loop; the loop body is
// a closure literal passed to an always-inlined helper, so it compiles to a plain loop.
import Foundation

/// Unary functions with a kernel and a derivative kernel.
public enum UnaryFunction: Sendable, Equatable {
    case negate, exp, log, sin, cos, sqrt, square, abs, relu, sigmoid, silu, tanh
    case leakyReLU(slope: Float)
    /// `x · scale + shift`.
    case affine(scale: Float, shift: Float)
    /// `x^p` for a constant p (x > 0 unless p is an integer).
    case power(Float)
    /// `min(max(x, lo), hi)`.
    case clamp(lo: Float, hi: Float)
}

/// Binary functions for the broadcasting kernel.
public enum BinaryFunction: Sendable {
    case add, subtract, multiply, divide, maximum, minimum
}

public enum Elementwise {
    @inline(__always)
    static func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                    _ f: (Float) -> Float) {
        Parallel.forRanges(count: n) { r in
            for i in r { y[i] = f(x[i]) }
        }
    }

    @inline(__always)
    static func zip3(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                     _ n: Int, _ f: (Float, Float) -> Float) {
        Parallel.forRanges(count: n) { r in
            for i in r { out[i] = f(a[i], b[i]) }
        }
    }

    /// `y[i] = f(x[i])` for `n` elements (`y` may alias `x`).
    public static func apply(_ f: UnaryFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        switch f {
        case .negate: map(x, y, n) { -$0 }
        case .exp: map(x, y, n) { Foundation.exp($0) }
        case .log: map(x, y, n) { Foundation.log($0) }
        case .sin: map(x, y, n) { Foundation.sin($0) }
        case .cos: map(x, y, n) { Foundation.cos($0) }
        case .sqrt: map(x, y, n) { $0.squareRoot() }
        case .square: map(x, y, n) { $0 * $0 }
        case .abs: map(x, y, n) { Swift.abs($0) }
        case .relu: map(x, y, n) { $0 > 0 ? $0 : 0 }
        case .sigmoid: map(x, y, n) { 1 / (1 + Foundation.exp(-$0)) }
        case .silu: map(x, y, n) { $0 / (1 + Foundation.exp(-$0)) }
        case .tanh: map(x, y, n) { Foundation.tanh($0) }
        case .leakyReLU(let s): map(x, y, n) { $0 > 0 ? $0 : $0 * s }
        case .affine(let a, let b): map(x, y, n) { $0 * a + b }
        case .power(let p):
            if p == 2 { map(x, y, n) { $0 * $0 } } else { map(x, y, n) { Foundation.pow($0, p) } }
        case .clamp(let lo, let hi): map(x, y, n) { Swift.min(Swift.max($0, lo), hi) }
        }
    }

    /// The pullback of `y = f(x)`: `dx[i] = g[i] · f′(x[i])`, given `x` and the forward output `y`.
    public static func applyDerivative(
        _ f: UnaryFunction, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
        grad g: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count n: Int
    ) {
        switch f {
        case .negate: map(g, dx, n) { -$0 }
        case .exp: zip3(g, y, dx, n) { $0 * $1 }
        case .log: zip3(g, x, dx, n) { $0 / $1 }
        case .sin: zip3(g, x, dx, n) { $0 * Foundation.cos($1) }
        case .cos: zip3(g, x, dx, n) { -$0 * Foundation.sin($1) }
        case .sqrt: zip3(g, y, dx, n) { $0 * 0.5 / $1 }
        case .square: zip3(g, x, dx, n) { 2 * $0 * $1 }
        case .abs: zip3(g, x, dx, n) { $1 > 0 ? $0 : ($1 < 0 ? -$0 : 0) }
        case .relu: zip3(g, x, dx, n) { $1 > 0 ? $0 : 0 }
        case .sigmoid: zip3(g, y, dx, n) { $0 * $1 * (1 - $1) }
        case .silu:
            zip3(g, x, dx, n) { g, x in
                let s = 1 / (1 + Foundation.exp(-x))
                return g * s * (1 + x * (1 - s))
            }
        case .tanh: zip3(g, y, dx, n) { $0 * (1 - $1 * $1) }
        case .leakyReLU(let s): zip3(g, x, dx, n) { $1 > 0 ? $0 : $0 * s }
        case .affine(let a, _): map(g, dx, n) { $0 * a }
        case .power(let p):
            zip3(g, x, dx, n) { g, x in g * p * Foundation.pow(x, p - 1) }
        case .clamp(let lo, let hi): zip3(g, x, dx, n) { ($1 >= lo && $1 <= hi) ? $0 : 0 }
        }
    }

    /// `y[i] += x[i]`.
    public static func accumulate(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int) {
        Parallel.forRanges(count: n) { r in
            for i in r { y[i] += x[i] }
        }
    }

    @inline(__always)
    static func run(_ f: BinaryFunction, _ body: ((Float, Float) -> Float) -> Void) {
        switch f {
        case .add: body { $0 + $1 }
        case .subtract: body { $0 - $1 }
        case .multiply: body { $0 * $1 }
        case .divide: body { $0 / $1 }
        case .maximum: body { Swift.max($0, $1) }
        case .minimum: body { Swift.min($0, $1) }
        }
    }

    /// Broadcasting binary op. `aStrides` / `bStrides` are the operands' element strides
    /// over `shape` (0 on broadcast axes); the output is contiguous with `shape`.
    public static func binary(
        _ f: BinaryFunction,
        _ a: UnsafePointer<Float>, aStrides: [Int],
        _ b: UnsafePointer<Float>, bStrides: [Int],
        into out: UnsafeMutablePointer<Float>, shape: [Int]
    ) {
        let count = shape.reduce(1, *)
        guard count > 0 else { return }
        let (dims, sa, sb) = collapse(shape: shape, aStrides, bStrides)
        let inner = dims.last!, ia = sa.last!, ib = sb.last!
        let outer = count / inner
        run(f) { op in
            // Each output row of `inner` elements is independent.
            let rowsPerChunk = max(1, (1 << 14) / inner)
            let chunks = (outer + rowsPerChunk - 1) / rowsPerChunk
            Parallel.forEach(chunks: chunks, work: count) { c in
                let lo = c * rowsPerChunk, hi = min(outer, lo + rowsPerChunk)
                for row in lo..<hi {
                    // Offsets of this row in a and b from its multi-index over the outer dims.
                    var rem = row, oa = 0, ob = 0
                    var d = dims.count - 2
                    while d >= 0 {
                        let i = rem % dims[d]; rem /= dims[d]
                        oa += i * sa[d]; ob += i * sb[d]
                        d -= 1
                    }
                    let pa = a + oa, pb = b + ob, po = out + row * inner
                    if ia == 1 && ib == 1 {
                        for i in 0..<inner { po[i] = op(pa[i], pb[i]) }
                    } else if ia == 1 {
                        let v = pb[0]
                        for i in 0..<inner { po[i] = op(pa[i], v) }
                    } else if ib == 1 {
                        let v = pa[0]
                        for i in 0..<inner { po[i] = op(v, pb[i]) }
                    } else {
                        let v = op(pa[0], pb[0])
                        for i in 0..<inner { po[i] = v }
                    }
                }
            }
        }
    }

    /// Merges adjacent axes that are contiguous in every operand, so the innermost loop
    /// is as long as possible. Size-1 axes are dropped. Returns at least one axis.
    public static func collapse(shape: [Int], _ s1: [Int], _ s2: [Int]) -> ([Int], [Int], [Int]) {
        var dims: [Int] = [], a: [Int] = [], b: [Int] = []
        for d in shape.indices where shape[d] != 1 {
            if let last = dims.last,
               a.last! == s1[d] * shape[d], b.last! == s2[d] * shape[d] {
                dims[dims.count - 1] = last * shape[d]
                a[a.count - 1] = s1[d]; b[b.count - 1] = s2[d]
            } else {
                dims.append(shape[d]); a.append(s1[d]); b.append(s2[d])
            }
        }
        if dims.isEmpty { return ([1], [1], [1]) }
        return (dims, a, b)
    }
}
