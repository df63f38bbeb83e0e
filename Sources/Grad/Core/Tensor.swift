// The tensor value type: fp32, contiguous, row-major (NCHW for images), with an optional
// link to the tape that records operations on it.
import Foundation
internal import GradKernels

public struct Tensor: @unchecked Sendable {
    public let shape: [Int]
    public private(set) var storage: Storage
    /// Set when the tensor is recorded on a tape (watched, or computed from a watched one).
    public internal(set) var link: TapeLink?

    public init(storage: Storage, shape: [Int]) {
        precondition(storage.count == Shapes.count(shape),
                     "storage holds \(storage.count) elements, shape \(shape) needs \(Shapes.count(shape))")
        self.storage = storage
        self.shape = shape
        self.link = nil
    }

    public init(shape: [Int], repeating value: Float = 0) {
        self.init(storage: Storage(repeating: value, count: Shapes.count(shape)), shape: shape)
    }

    public init(_ values: [Float], shape: [Int]) {
        precondition(values.count == Shapes.count(shape), "\(values.count) values for shape \(shape)")
        self.init(storage: Storage(values), shape: shape)
    }

    /// A rank-0 tensor.
    public init(scalar: Float) { self.init([scalar], shape: []) }

    /// A tensor whose every element is filled by `body` (called once, on the raw buffer).
    public init(shape: [Int], filling body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let s = Storage(uninitializedCount: Shapes.count(shape))
        body(UnsafeMutableBufferPointer(start: s.pointer, count: s.count))
        self.init(storage: s, shape: shape)
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }

    /// N(mean, std²) samples from `rng`.
    public static func randomNormal(_ shape: [Int], mean: Float = 0, std: Float = 1,
                                    using rng: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape) { rng.fillNormal($0, mean: mean, std: std) }
    }

    /// U[lo, hi) samples from `rng`.
    public static func randomUniform(_ shape: [Int], lo: Float = 0, hi: Float = 1,
                                     using rng: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape) { rng.fillUniform($0, lo: lo, hi: hi) }
    }

    public var rank: Int { shape.count }
    public var count: Int { storage.count }
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item of a tensor with shape \(shape)")
        return storage.pointer[0]
    }

    /// True when operations on this tensor are being recorded.
    public var isTracked: Bool { link != nil }

    /// The same values, cut from the tape.
    public func detached() -> Tensor { Tensor(storage: storage, shape: shape) }

    /// Read access to the contiguous elements.
    public func withUnsafePointer<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafePointer(storage.pointer))
    }

    /// Write access to the elements, copying first when the storage is shared
    /// (so tensors keep value semantics). Not allowed on tracked tensors.
    public mutating func withUnsafeMutablePointer<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        precondition(link == nil, "in-place write to a tensor recorded on a tape")
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return try body(storage.pointer)
    }

    /// Storage a kernel will overwrite completely (saves the zero fill of `zeros`).
    static func uninitialized(_ shape: [Int]) -> Tensor {
        Tensor(storage: Storage(uninitializedCount: Shapes.count(shape)), shape: shape)
    }

    /// A new untracked tensor of `shape` computed by `body(output)`.
    static func computed(_ shape: [Int], _ body: (UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        let s = Storage(uninitializedCount: Shapes.count(shape))
        body(s.pointer)
        return Tensor(storage: s, shape: shape)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = scalars.prefix(8).map { String(format: "%.5g", Double($0)) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(count > 8 ? ", …" : "")]\(isTracked ? ", tracked" : ""))"
    }
}
