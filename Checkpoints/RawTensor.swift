// A tensor as stored in a file: element type, shape and little-endian bytes. Formats
// exchange these, so a conversion keeps half precision half; `floatTensor()` widens to
// the engine's fp32.
import Foundation
import Grad

/// Element types the readers understand.
public enum DType: String, Sendable, CaseIterable {
    case float32 = "F32", float16 = "F16", bfloat16 = "BF16", float64 = "F64"
    case int64 = "I64", int32 = "I32", int16 = "I16", int8 = "I8", uint8 = "U8", bool = "BOOL"

    public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    public var isFloatingPoint: Bool { [.float32, .float16, .bfloat16, .float64].contains(self) }
}

public struct RawTensor: Sendable, Equatable {
    public let dtype: DType
    public let shape: [Int]
    /// The bytes behind the tensor: exactly its elements when `view` is nil, else a
    /// storage the strided `view` reads from (a PyTorch view, possibly expanded).
    private let storage: [UInt8]
    private let view: StridedView?

    /// Where a strided tensor's elements lie in its storage, in elements.
    struct StridedView: Sendable, Equatable {
        var offset: Int
        var strides: [Int]
    }

    public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
        precondition(bytes.count == shape.reduce(1, *) * dtype.byteSize,
                     "\(bytes.count) bytes for \(dtype) \(shape)")
        self.dtype = dtype
        self.shape = shape
        self.storage = bytes
        self.view = nil
    }

    /// A view of `storage` that is materialised only when its elements are read. The
    /// caller has checked that every element the view reaches lies inside `storage`
    /// (`TorchFile.gather` does, for views read from a file).
    init(dtype: DType, shape: [Int], viewing storage: [UInt8], offset: Int, strides: [Int]) {
        self.dtype = dtype
        self.shape = shape
        self.storage = storage
        // Dimensions of size 1 may carry any stride; they do not move through storage.
        let contiguous = zip(zip(shape, strides), Self.contiguousStrides(shape)).allSatisfy { $0.0.0 <= 1 || $0.0.1 == $0.1 }
        if offset == 0, contiguous, storage.count == shape.reduce(1, *) * dtype.byteSize {
            self.view = nil
        } else {
            self.view = StridedView(offset: offset, strides: strides)
        }
    }

    /// An fp32 tensor's bytes.
    public init(_ tensor: Tensor) {
        let bytes = tensor.withUnsafePointer { p in
            Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(p), count: tensor.count * 4))
        }
        self.init(dtype: .float32, shape: tensor.shape, bytes: bytes)
    }

    /// Contiguous, row-major, little-endian bytes; a strided view is gathered here, on
    /// first use, not when the file was read.
    public var bytes: [UInt8] {
        guard view != nil else { return storage }
        let size = dtype.byteSize
        var out = [UInt8](repeating: 0, count: count * size)
        out.withUnsafeMutableBytes { o in
            storage.withUnsafeBytes { s in
                var i = 0
                forEachElementOffset { e in
                    o.baseAddress!.advanced(by: i * size).copyMemory(from: s.baseAddress!.advanced(by: e * size), byteCount: size)
                    i += 1
                }
            }
        }
        return out
    }

    /// Bytes the contiguous tensor occupies.
    public var byteCount: Int { count * dtype.byteSize }

    /// Whether the elements are a strided view still to be gathered.
    public var isView: Bool { view != nil }

    public static func == (a: RawTensor, b: RawTensor) -> Bool {
        a.dtype == b.dtype && a.shape == b.shape && a.bytes == b.bytes
    }

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
        return strides
    }

    /// Calls `body` with the storage element index of every element, in row-major order.
    private func forEachElementOffset(_ body: (Int) -> Void) {
        let n = count
        guard let view else { for i in 0..<n { body(i) }; return }
        guard n > 0 else { return }
        let rank = shape.count
        var index = [Int](repeating: 0, count: rank)
        var e = view.offset
        for _ in 0..<n {
            body(e)
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                e += view.strides[d]
                if index[d] < shape[d] { break }
                e -= index[d] * view.strides[d]
                index[d] = 0
                d -= 1
            }
        }
    }

    public var count: Int { shape.reduce(1, *) }

    /// The values re-encoded as a floating-point `dtype` (float32, float16 or bfloat16,
    /// round-to-nearest-even); integer tensors are returned unchanged.
    public func converted(to target: DType) -> RawTensor {
        guard dtype.isFloatingPoint, target != dtype else { return self }
        let values = floatTensor().scalars
        var out = [UInt8]()
        out.reserveCapacity(values.count * target.byteSize)
        for v in values {
            switch target {
            case .float16: withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { out += $0 }
            case .bfloat16:
                let bits = v.bitPattern
                let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)  // round to nearest even
                withUnsafeBytes(of: UInt16(truncatingIfNeeded: (v.isNaN ? bits : rounded) >> 16).littleEndian) { out += $0 }
            default: withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 }
            }
        }
        return RawTensor(dtype: target == .float16 || target == .bfloat16 ? target : .float32, shape: shape, bytes: out)
    }

    /// The values widened (or narrowed, for float64 and integers) to fp32.
    public func floatTensor() -> Tensor {
        // Reads elements where they lie, so an expanded view becomes fp32 without first
        // being gathered as bytes.
        Tensor(shape: shape) { out in
            storage.withUnsafeBytes { raw in
                var i = 0
                forEachElementOffset { e in
                    out[i] = Self.float(raw, element: e, dtype: dtype)
                    i += 1
                }
            }
        }
    }

    private static func float(_ raw: UnsafeRawBufferPointer, element e: Int, dtype: DType) -> Float {
        switch dtype {
        case .float32: return Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * e, as: UInt32.self))
        case .float16: return Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: 2 * e, as: UInt16.self)))
        case .bfloat16: return Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * e, as: UInt16.self)) << 16)
        case .float64: return Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * e, as: UInt64.self)))
        case .int64: return Float(raw.loadUnaligned(fromByteOffset: 8 * e, as: Int64.self))
        case .int32: return Float(raw.loadUnaligned(fromByteOffset: 4 * e, as: Int32.self))
        case .int16: return Float(raw.loadUnaligned(fromByteOffset: 2 * e, as: Int16.self))
        case .int8: return Float(raw.load(fromByteOffset: e, as: Int8.self))
        case .uint8, .bool: return Float(raw[e])
        }
    }

    /// The integer values of an integer tensor (e.g. step counts).
    public func integers() -> [Int64] {
        guard !dtype.isFloatingPoint else {
            // Values from a file: NaN and out-of-range values must not trap the conversion.
            return floatTensor().scalars.map { $0.isNaN ? 0 : $0 >= 0x1p63 ? .max : $0 < -0x1p63 ? .min : Int64($0) }
        }
        var values: [Int64] = []
        values.reserveCapacity(count)
        storage.withUnsafeBytes { raw in
            forEachElementOffset { e in
                switch dtype {
                case .int64: values.append(raw.loadUnaligned(fromByteOffset: 8 * e, as: Int64.self))
                case .int32: values.append(Int64(raw.loadUnaligned(fromByteOffset: 4 * e, as: Int32.self)))
                case .int16: values.append(Int64(raw.loadUnaligned(fromByteOffset: 2 * e, as: Int16.self)))
                case .int8: values.append(Int64(raw.load(fromByteOffset: e, as: Int8.self)))
                default: values.append(Int64(raw[e]))
                }
            }
        }
        return values
    }
}

/// Named tensors in file order plus string metadata: what every format reads into and
/// writes from.
public struct TensorArchive: Sendable, Equatable {
    public var tensors: [(name: String, tensor: RawTensor)]
    public var metadata: [String: String]

    public init(tensors: [(name: String, tensor: RawTensor)] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    public subscript(name: String) -> RawTensor? { tensors.first { $0.name == name }?.tensor }

    public static func == (a: Self, b: Self) -> Bool {
        a.metadata == b.metadata && a.tensors.map(\.name) == b.tensors.map(\.name)
            && zip(a.tensors, b.tensors).allSatisfy { $0.tensor == $1.tensor }
    }
}
