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
    // Structure: the parallel loop hands each thread a range; the range function
    // switches on the function once and runs a loop whose body is a closure *literal*
    // passed to an always-inlined helper, so the compiler emits a plain (vectorized)
    // loop. A closure value carried into the range body would cost an indirect call per
    // element.

    /// `y[i] = f(x[i])` for `n` elements (`y` may alias `x`).
    public static func apply(_ f: UnaryFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        Parallel.forRanges(count: n) { r in
            applyRange(f, x + r.lowerBound, y + r.lowerBound, r.count)
        }
    }

    static func applyRange(_ f: UnaryFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch f {
        case .negate: FastMath.map(x, y, n) { -$0 }
        case .exp: for i in 0..<n { y[i] = FastMath.exp(x[i]) }
        case .log: for i in 0..<n { y[i] = Foundation.log(x[i]) }
        case .sin: for i in 0..<n { y[i] = Foundation.sin(x[i]) }
        case .cos: for i in 0..<n { y[i] = Foundation.cos(x[i]) }
        case .sqrt: for i in 0..<n { y[i] = x[i].squareRoot() }
        case .square: FastMath.map(x, y, n) { $0 * $0 }
        case .abs: for i in 0..<n { y[i] = Swift.abs(x[i]) }
        case .relu: for i in 0..<n { y[i] = x[i] > 0 ? x[i] : 0 }
        case .sigmoid: for i in 0..<n { y[i] = 1 / (1 + FastMath.exp(-x[i])) }
        case .silu: for i in 0..<n { y[i] = x[i] / (1 + FastMath.exp(-x[i])) }
        case .tanh: for i in 0..<n { y[i] = Foundation.tanh(x[i]) }
        case .leakyReLU(let s): for i in 0..<n { y[i] = x[i] > 0 ? x[i] : x[i] * s }
        case .affine(let a, let b): FastMath.map(x, y, n) { $0 * a + b }
        case .power(let p):
            if p == 2 { FastMath.map(x, y, n) { $0 * $0 } } else { for i in 0..<n { y[i] = Foundation.pow(x[i], p) } }
        case .clamp(let lo, let hi): for i in 0..<n { y[i] = Swift.min(Swift.max(x[i], lo), hi) }
        }
    }

    /// The pullback of `y = f(x)`: `dx[i] = g[i] · f′(x[i])`, given `x` and the forward output `y`.
    public static func applyDerivative(
        _ f: UnaryFunction, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
        grad g: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count n: Int
    ) {
        Parallel.forRanges(count: n) { r in
            let o = r.lowerBound
            derivativeRange(f, x + o, y + o, g + o, dx + o, r.count)
        }
    }

    static func derivativeRange(_ f: UnaryFunction, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                                _ g: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        switch f {
        case .negate: FastMath.map(g, dx, n) { -$0 }
        case .exp: FastMath.map2(g, y, dx, n) { $0 * $1 }
        case .log: FastMath.map2(g, x, dx, n) { $0 / $1 }
        case .sin: for i in 0..<n { dx[i] = g[i] * Foundation.cos(x[i]) }
        case .cos: for i in 0..<n { dx[i] = -g[i] * Foundation.sin(x[i]) }
        case .sqrt: FastMath.map2(g, y, dx, n) { $0 * 0.5 / $1 }
        case .square: FastMath.map2(g, x, dx, n) { 2 * $0 * $1 }
        case .abs: for i in 0..<n { dx[i] = x[i] > 0 ? g[i] : (x[i] < 0 ? -g[i] : 0) }
        case .relu: for i in 0..<n { dx[i] = x[i] > 0 ? g[i] : 0 }
        case .sigmoid: FastMath.map2(g, y, dx, n) { $0 * $1 * (1 - $1) }
        case .silu:
            for i in 0..<n {
                let s = 1 / (1 + FastMath.exp(-x[i]))
                dx[i] = g[i] * s * (1 + x[i] * (1 - s))
            }
        case .tanh: FastMath.map2(g, y, dx, n) { $0 * (1 - $1 * $1) }
        case .leakyReLU(let s): for i in 0..<n { dx[i] = x[i] > 0 ? g[i] : g[i] * s }
        case .affine(let a, _): FastMath.map(g, dx, n) { $0 * a }
        case .power(let p): for i in 0..<n { dx[i] = g[i] * p * Foundation.pow(x[i], p - 1) }
        case .clamp(let lo, let hi): for i in 0..<n { dx[i] = (x[i] >= lo && x[i] <= hi) ? g[i] : 0 }
        }
    }

    /// SiLU forward that also keeps σ(x), so the backward needs no second exp:
    /// `y = x·σ(x)`, `s = σ(x)`.
    public static func siluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                   sigmoid s: UnsafeMutablePointer<Float>, count n: Int) {
        Parallel.forRanges(count: n) { r in
            for i in r {
                let si = 1 / (1 + FastMath.exp(-x[i]))
                s[i] = si
                y[i] = x[i] * si
            }
        }
    }

    /// SiLU backward from the saved σ(x): `dx = g·s·(1 + x·(1 − s))`.
    public static func siluBackward(_ x: UnsafePointer<Float>, sigmoid s: UnsafePointer<Float>,
                                    grad g: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count n: Int) {
        Parallel.forRanges(count: n) { r in
            for i in r { dx[i] = g[i] * s[i] * (1 + x[i] * (1 - s[i])) }
        }
    }

    /// `y[i] += x[i]`.
    public static func accumulate(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int) {
        Parallel.forRanges(count: n) { r in
            let o = r.lowerBound
            FastMath.map2(x + o, y + o, y + o, r.count) { $0 + $1 }
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
        // Rows of `inner` elements are independent; a chunk is a run of whole rows
        // (or, for one long row, a piece of it).
        if outer == 1 {
            Parallel.forRanges(count: inner) { r in
                let o = r.lowerBound
                binaryRow(f, a + o * ia, ia, b + o * ib, ib, out + o, r.count)
            }
            return
        }
        let rowsPerChunk = max(1, (1 << 14) / inner)
        let chunks = (outer + rowsPerChunk - 1) / rowsPerChunk
        Parallel.forEach(chunks: chunks, work: count) { c in
            let lo = c * rowsPerChunk, hi = min(outer, lo + rowsPerChunk)
            for row in lo..<hi {
                let (oa, ob) = rowOffsets(row, dims, sa, sb)
                binaryRow(f, a + oa, ia, b + ob, ib, out + row * inner, inner)
            }
        }
    }

    /// One contiguous output row; each operand's stride is 1 (a run) or 0 (one value).
    static func binaryRow(_ f: BinaryFunction, _ a: UnsafePointer<Float>, _ ia: Int,
                          _ b: UnsafePointer<Float>, _ ib: Int, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        switch f {
        case .add: row(a, ia, b, ib, out, n) { $0 + $1 }
        case .subtract: row(a, ia, b, ib, out, n) { $0 - $1 }
        case .multiply: row(a, ia, b, ib, out, n) { $0 * $1 }
        case .divide: row(a, ia, b, ib, out, n) { $0 / $1 }
        case .maximum: row(a, ia, b, ib, out, n) { pointwiseMax($0, $1) }
        case .minimum: row(a, ia, b, ib, out, n) { pointwiseMin($0, $1) }
        }
    }

    @inline(__always)
    static func row(_ a: UnsafePointer<Float>, _ ia: Int, _ b: UnsafePointer<Float>, _ ib: Int,
                    _ out: UnsafeMutablePointer<Float>, _ n: Int, _ op: (FloatVector, FloatVector) -> FloatVector) {
        if ia == 1 && ib == 1 {
            FastMath.map2(a, b, out, n, op)
        } else if ia == 1 {
            let v = FloatVector(repeating: b[0])
            FastMath.map(a, out, n) { op($0, v) }
        } else if ib == 1 {
            let v = FloatVector(repeating: a[0])
            FastMath.map(b, out, n) { op(v, $0) }
        } else {
            let v = op(FloatVector(repeating: a[0]), FloatVector(repeating: b[0]))[0]
            out.update(repeating: v, count: n)
        }
    }

    /// The offsets in two strided operands of row `row` (a multi-index over every axis
    /// but the innermost) of a collapsed iteration space.
    @inline(__always)
    static func rowOffsets(_ row: Int, _ dims: [Int], _ s1: [Int], _ s2: [Int]) -> (Int, Int) {
        var rem = row, o1 = 0, o2 = 0
        var d = dims.count - 2
        while d >= 0 {
            let i = rem % dims[d]; rem /= dims[d]
            o1 += i * s1[d]; o2 += i * s2[d]
            d -= 1
        }
        return (o1, o2)
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
