// Swift access to HDF5 files through the HDF5Bridge C layer.
import Foundation
import Grad
import HDF5Bridge

/// An open HDF5 file, for reading or writing datasets by path.
public final class HDF5File {
    /// The HDF5 library this program runs with ("1.10.8").
    public static var libraryVersion: String {
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        ecdp_h5_library_version(&major, &minor, &release)
        return "\(major).\(minor).\(release)"
    }

    public let path: String
    private var handle: Int64
    /// Bytes this file's datasets may claim beyond what they store (`ReadLimits`).
    private let budget = ExpansionBudget()

    private init(path: String, handle: Int64) {
        self.path = path
        self.handle = handle
    }

    /// Creates (or truncates) `path` for writing.
    public static func create(_ path: String) throws -> HDF5File {
        var h: Int64 = -1
        try call(path) { ecdp_h5_create(path, &h, $0, $1) }
        return HDF5File(path: path, handle: h)
    }

    /// Opens `path` read-only, once its structure has been checked (`HDF5Check`).
    public static func open(_ path: String) throws -> HDF5File {
        try preflight(path)
        var h: Int64 = -1
        try call(path) { ecdp_h5_open(path, &h, $0, $1) }
        return HDF5File(path: path, handle: h)
    }

    /// The checks before libhdf5 sees a file: it exists, is not empty, and its structure
    /// lies inside it.
    static func preflight(_ path: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw CheckpointError(path, "no such file") }
        guard !isFolder.boolValue else { throw CheckpointError(path, "a folder, but a file is needed here") }
        guard let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, size > 0 else {
            throw CheckpointError(path, "empty file")
        }
        try HDF5Check.validate(path)
    }

    deinit { if handle >= 0 { _ = ecdp_h5_close(handle) } }

    /// Closes the file now (flushing what was written).
    public func close() throws {
        guard handle >= 0 else { return }
        let status = ecdp_h5_close(handle)
        handle = -1
        if status != 0 { throw CheckpointError(path, "cannot close the file cleanly") }
    }

    static func call(_ path: String, _ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        var message = [CChar](repeating: 0, count: 512)
        let status = message.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        if status != 0 {
            throw CheckpointError(path, String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
    }

    // MARK: Writing

    public func write(_ name: String, floats: [Float], shape: [Int]) throws {
        try write(name, ECDP_H5_F32, shape, floats)
    }

    public func write(_ name: String, tensor: Tensor) throws {
        try tensor.withUnsafePointer { p in
            try write(name, ECDP_H5_F32, tensor.shape, UnsafeRawPointer(p))
        }
    }

    public func write(_ name: String, integers: [Int64], shape: [Int]? = nil) throws {
        try write(name, ECDP_H5_I64, shape ?? [integers.count], integers)
    }

    public func write(_ name: String, unsigned: [UInt64]) throws {
        try write(name, ECDP_H5_U64, [unsigned.count], unsigned)
    }

    public func write(_ name: String, string: String) throws {
        let bytes = Array(string.utf8)
        try write(name, ECDP_H5_U8, [bytes.count], bytes)
    }

    private func write(_ name: String, _ dtype: ecdp_h5_dtype, _ shape: [Int], _ data: UnsafeRawPointer) throws {
        let dims = shape.map { UInt64($0) }
        try HDF5File.call(path) { ecdp_h5_write(handle, name, Int32(dtype.rawValue), Int32(shape.count), dims, data, $0, $1) }
    }

    // MARK: Reading

    public func contains(_ name: String) -> Bool { ecdp_h5_exists(handle, name) == 1 }

    /// Every dataset path in the file, sorted.
    public func datasetNames() throws -> [String] {
        var text: UnsafeMutablePointer<CChar>?
        try HDF5File.call(path) { ecdp_h5_list(handle, &text, $0, $1) }
        defer { free(text) }
        return String(cString: text!).split(separator: "\n").map(String.init).sorted()
    }

    /// The stored element type and shape of `name`.
    public func info(_ name: String) throws -> (dtype: DType, shape: [Int]) {
        try header(name).info
    }

    /// The type, shape and stored bytes of `name`: the shape read from the file is only
    /// trusted as far as the bytes behind it (a crafted header may claim terabytes).
    private func header(_ name: String) throws -> (info: (dtype: DType, shape: [Int]), stored: Int) {
        var dtype: Int32 = 0, rank: Int32 = 0, stored: UInt64 = 0
        var dims = [UInt64](repeating: 0, count: 8)
        try HDF5File.call(path) { ecdp_h5_info(handle, name, &dtype, &rank, &dims, &stored, $0, $1) }
        let types: [Int32: DType] = [Int32(ECDP_H5_F32.rawValue): .float32, Int32(ECDP_H5_F64.rawValue): .float64,
                                     Int32(ECDP_H5_I64.rawValue): .int64, Int32(ECDP_H5_U64.rawValue): .int64,
                                     Int32(ECDP_H5_U8.rawValue): .uint8]
        let shape = dims.prefix(Int(rank)).map { Int(clamping: $0) }
        return ((types[dtype] ?? .float32, shape), Int(clamping: stored))
    }

    /// The element count of `name`, once its bytes are known to exist (or fit the budget).
    private func checkedCount(_ name: String, elementBytes: Int) throws -> Int {
        let (info, stored) = try header(name)
        guard let count = ReadLimits.product(info.shape), let bytes = ReadLimits.product([count, elementBytes]) else {
            throw CheckpointError(path, "\(name): shape \(info.shape) overflows")
        }
        try budget.spend(bytes - stored, on: "dataset \(name) of shape \(info.shape) (\(stored) bytes stored)", path: path)
        return count
    }

    public func tensor(_ name: String) throws -> Tensor {
        let shape = try info(name).shape
        var values = [Float](repeating: 0, count: try checkedCount(name, elementBytes: 4))
        try read(name, ECDP_H5_F32, &values)
        return Tensor(values, shape: shape)
    }

    public func tensor(_ name: String, expectedShape: [Int]) throws -> Tensor {
        let shape = try info(name).shape
        guard shape == expectedShape else {
            throw CheckpointError(path, "shape mismatch for \(name): expected \(expectedShape), found \(shape)")
        }
        return try tensor(name)
    }

    public func integers(_ name: String) throws -> [Int64] {
        var values = [Int64](repeating: 0, count: try checkedCount(name, elementBytes: 8))
        try read(name, ECDP_H5_I64, &values)
        return values
    }

    public func unsigned(_ name: String) throws -> [UInt64] {
        var values = [UInt64](repeating: 0, count: try checkedCount(name, elementBytes: 8))
        try read(name, ECDP_H5_U64, &values)
        return values
    }

    public func string(_ name: String) throws -> String {
        var bytes = [UInt8](repeating: 0, count: try checkedCount(name, elementBytes: 1))
        try read(name, ECDP_H5_U8, &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private func read<T>(_ name: String, _ dtype: ecdp_h5_dtype, _ values: inout [T]) throws {
        let capacity = values.count * MemoryLayout<T>.stride
        try values.withUnsafeMutableBytes { buffer in
            try HDF5File.call(path) { ecdp_h5_read(handle, name, Int32(dtype.rawValue), buffer.baseAddress, capacity, $0, $1) }
        }
    }
}
