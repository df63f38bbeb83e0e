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
    public var dtype: DType
    public var shape: [Int]
    /// Contiguous, row-major, little-endian.
    public var bytes: [UInt8]

    public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
        precondition(bytes.count == shape.reduce(1, *) * dtype.byteSize,
                     "\(bytes.count) bytes for \(dtype) \(shape)")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// An fp32 tensor's bytes.
    public init(_ tensor: Tensor) {
        let bytes = tensor.withUnsafePointer { p in
            Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(p), count: tensor.count * 4))
        }
        self.init(dtype: .float32, shape: tensor.shape, bytes: bytes)
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
        Tensor(shape: shape) { out in
            bytes.withUnsafeBytes { raw in
                switch dtype {
                case .float32:
                    for i in 0..<count { out[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
                case .float16:
                    for i in 0..<count { out[i] = Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
                case .bfloat16:
                    for i in 0..<count { out[i] = Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
                case .float64:
                    for i in 0..<count { out[i] = Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))) }
                case .int64:
                    for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
                case .int32:
                    for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
                case .int16:
                    for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)) }
                case .int8:
                    for i in 0..<count { out[i] = Float(raw.load(fromByteOffset: i, as: Int8.self)) }
                case .uint8, .bool:
                    for i in 0..<count { out[i] = Float(raw[i]) }
                }
            }
        }
    }

    /// The integer values of an integer tensor (e.g. step counts).
    public func integers() -> [Int64] {
        bytes.withUnsafeBytes { raw in
            (0..<count).map { i -> Int64 in
                switch dtype {
                case .int64: return raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)
                case .int32: return Int64(raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))
                case .int16: return Int64(raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))
                case .int8: return Int64(raw.load(fromByteOffset: i, as: Int8.self))
                case .uint8, .bool: return Int64(raw[i])
                default: return Int64(floatTensor().scalars[i])
                }
            }
        }
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
