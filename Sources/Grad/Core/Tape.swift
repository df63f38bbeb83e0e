// The tape: an ordered record of operations on tracked tensors, walked in reverse by
// `gradients(of:seeds:wrt:)`.
//
// Ownership: a tracked tensor holds its tape; the tape holds its entries' pullbacks;
// a pullback must capture only *untracked* tensors (values from `detached()` or fresh
// kernel outputs). So the graph is acyclic and everything is freed when the last
// tracked tensor of a step goes out of scope.
internal import GradKernels

/// The position of a tracked tensor on a tape.
public struct TapeLink: @unchecked Sendable {
    public let tape: Tape
    public let id: Int
}

/// A pullback maps the gradient of an op's output to the gradients of its inputs (nil
/// for an input that needs none). Returned gradients may have the broadcast shape;
/// the tape reduces them to each input's shape.
public typealias Pullback = (Tensor) -> [Tensor?]

public final class Tape: @unchecked Sendable {
    struct Entry {
        let name: StaticString
        let inputs: [(id: Int, shape: [Int])?]
        let output: Int
        let pullback: Pullback
    }

    private(set) var entries: [Entry] = []
    private var nextID = 0

    public init() {}

    /// Number of recorded operations.
    public var operationCount: Int { entries.count }

    /// `tensor` as a new leaf on this tape: operations on the result are recorded.
    public func watch(_ tensor: Tensor) -> Tensor {
        var t = tensor.detached()
        t.link = TapeLink(tape: self, id: newID())
        return t
    }

    private func newID() -> Int { defer { nextID += 1 }; return nextID }

    func record(_ name: StaticString, output: Tensor, inputs: [Tensor], pullback: @escaping Pullback) -> Tensor {
        let ins: [(id: Int, shape: [Int])?] = inputs.map { t in
            guard let l = t.link else { return nil }
            precondition(l.tape === self, "\(name): inputs recorded on different tapes")
            return (l.id, t.shape)
        }
        var out = output.detached()
        out.link = TapeLink(tape: self, id: newID())
        entries.append(Entry(name: name, inputs: ins, output: out.link!.id, pullback: pullback))
        return out
    }

    /// Reverse-mode gradients of `Σ ⟨outputs[i], seeds[i]⟩` with respect to each tensor in
    /// `wrt` (all recorded on this tape). A tensor the outputs do not depend on gets zeros.
    public func gradients(of outputs: [Tensor], seeds: [Tensor], wrt: [Tensor]) -> [Tensor] {
        precondition(outputs.count == seeds.count, "one seed per output")
        var grads = [Tensor?](repeating: nil, count: nextID)
        for (y, s) in zip(outputs, seeds) {
            precondition(y.shape == s.shape, "seed shape \(s.shape) for output shape \(y.shape)")
            guard let l = y.link else { continue }
            precondition(l.tape === self, "output recorded on another tape")
            grads[l.id] = Tape.accumulate(grads[l.id], s.detached())
        }
        var keep = Set<Int>()
        for x in wrt {
            guard let l = x.link, l.tape === self else {
                preconditionFailure("gradient requested for a tensor not recorded on this tape")
            }
            keep.insert(l.id)
        }
        for e in entries.reversed() {
            guard let g = grads[e.output] else { continue }
            if !keep.contains(e.output) { grads[e.output] = nil }
            let inputGrads = Tape.withoutRecording { e.pullback(g) }
            precondition(inputGrads.count == e.inputs.count, "\(e.name): pullback returned \(inputGrads.count) gradients for \(e.inputs.count) inputs")
            for (input, dx) in zip(e.inputs, inputGrads) {
                guard let input, let dx else { continue }
                let reduced = dx.shape == input.shape ? dx : dx.summed(toShape: input.shape)
                grads[input.id] = Tape.accumulate(grads[input.id], reduced)
            }
        }
        return wrt.map { x in grads[x.link!.id] ?? Tensor.zeros(x.shape) }
    }

    static func accumulate(_ a: Tensor?, _ b: Tensor) -> Tensor {
        guard var a else { return b }
        a.withUnsafeMutablePointer { pa in
            b.withUnsafePointer { pb in Elementwise.accumulate(pb, into: pa, count: b.count) }
        }
        return a
    }

    @TaskLocal static var isSuspended = false

    /// Runs `body` with recording switched off: operations on tracked tensors inside
    /// return untracked results (sampling, evaluation, pullbacks).
    public static func withoutRecording<R>(_ body: () throws -> R) rethrows -> R {
        try $isSuspended.withValue(true) { try body() }
    }
}

extension Tensor {
    /// Records the op that produced `self` from `inputs`, when any input is tracked.
    /// `self` must be a fresh, untracked result.
    func recorded(_ name: StaticString, inputs: [Tensor], pullback: @escaping Pullback) -> Tensor {
        guard !Tape.isSuspended, let tape = inputs.first(where: { $0.link != nil })?.link?.tape else { return self }
        return tape.record(name, output: self, inputs: inputs, pullback: pullback)
    }

    /// Reduces a broadcast gradient back to `target` by summing the stretched axes.
    func summed(toShape target: [Int]) -> Tensor {
        let padded = [Int](repeating: 1, count: shape.count - target.count) + target
        let out = Tensor.computed(padded) { po in
            withUnsafePointer { px in Reduce.sum(px, shape: shape, into: po, outShape: padded) }
        }
        return Tensor(storage: out.storage, shape: target)
    }
}
