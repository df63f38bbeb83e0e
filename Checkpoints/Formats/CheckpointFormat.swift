// Format by file extension, and reading/writing any supported format as a TensorArchive.
import AtomicFile
import Foundation

public enum CheckpointFormat: String, Sendable {
    case hdf5, safetensors, pytorch

    public static func of(_ path: String) throws -> CheckpointFormat {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CheckpointError(path, "is a folder, not a checkpoint file" + (FileManager.default.fileExists(atPath: path + "/checkpoint.h5")
                                                                                  ? " (its run's checkpoint is \(path)/checkpoint.h5)" : ""))
        }
        switch (path as NSString).pathExtension.lowercased() {
        case "h5", "hdf5": return .hdf5
        case "safetensors": return .safetensors
        case "pth", "pt", "bin", "ckpt": return .pytorch
        default:
            throw CheckpointError(path, "unknown checkpoint format (use .h5, .safetensors, or .pth/.pt)")
        }
    }

    /// Every tensor and metadata entry of `path`.
    public static func read(_ path: String) throws -> TensorArchive {
        switch try of(path) {
        case .safetensors: return try Safetensors.read(path)
        case .pytorch: return try TorchFile.archive(path)
        case .hdf5: return try HDF5Archive.read(path)
        }
    }

    /// The names, dtypes, shapes and sizes of `path`'s tensors and its metadata, without
    /// reading tensor data (`ecdp inspect`): a file that claims terabytes is listed, not loaded.
    public static func headers(_ path: String) throws -> ArchiveHeaders {
        switch try of(path) {
        case .safetensors: return try Safetensors.headers(path)
        case .pytorch: return try TorchFile.headers(path)
        case .hdf5: return try HDF5Archive.headers(path)
        }
    }

    /// Writes `archive` to `path` (HDF5 or safetensors; PyTorch files are read-only).
    public static func write(_ archive: TensorArchive, to path: String) throws {
        switch try of(path) {
        case .safetensors: try Safetensors.write(archive, to: path)
        case .hdf5: try HDF5Archive.write(archive, to: path)
        case .pytorch:
            throw CheckpointError(path, "writing PyTorch files is not supported; write .safetensors or .h5 instead")
        }
    }
}

/// A generic HDF5 tensor file: every dataset a tensor (fp32 or its integer type), and
/// metadata under `__metadata__/<key>` as UTF-8 bytes. Training checkpoints are HDF5
/// files of this shape too, so `inspect`/`convert` read them.
public enum HDF5Archive {
    /// Dataset names, types and shapes, and the metadata strings; no tensor is read.
    public static func headers(_ path: String) throws -> ArchiveHeaders {
        let file = try HDF5File.open(path)
        var headers = ArchiveHeaders(tensors: [], metadata: [:])
        for name in try file.datasetNames() {
            if name.hasPrefix("__metadata__/") {
                headers.metadata[String(name.dropFirst("__metadata__/".count))] = try file.string(name)
                continue
            }
            let (dtype, shape) = try file.info(name)
            if dtype == .uint8, name.hasPrefix("meta/") { headers.metadata[name] = try file.string(name); continue }
            // Stored as fp32 (floats) or int64 (integers).
            let stored: DType = dtype == .int64 ? .int64 : .float32
            headers.tensors.append(TensorHeader(name: name, dtype: stored, shape: shape,
                                                byteCount: ReadLimits.product(shape + [stored.byteSize]) ?? -1))
        }
        return headers
    }

    public static func read(_ path: String) throws -> TensorArchive {
        let file = try HDF5File.open(path)
        var archive = TensorArchive()
        for name in try file.datasetNames() {
            if name.hasPrefix("__metadata__/") {
                archive.metadata[String(name.dropFirst("__metadata__/".count))] = try file.string(name)
                continue
            }
            let (dtype, shape) = try file.info(name)
            switch dtype {
            case .int64:
                let values = try file.integers(name)
                archive.tensors.append((name, RawTensor(dtype: .int64, shape: shape, bytes: values.withUnsafeBytes { Array($0) })))
            case .uint8 where name.hasPrefix("meta/"):
                archive.metadata[name] = try file.string(name)
            default:
                archive.tensors.append((name, RawTensor(try file.tensor(name))))
            }
        }
        return archive
    }

    /// Float tensors are stored as fp32 (HDF5 here has no fp16/bf16 datasets), integer
    /// tensors as int64.
    public static func write(_ archive: TensorArchive, to path: String) throws {
        try AtomicFile.write(to: path, makeError: { CheckpointError(path, $0) }) { temporary in
            do {
                let file = try HDF5File.create(temporary)
                for (name, t) in archive.tensors {
                    if t.dtype.isFloatingPoint { try file.write(name, tensor: t.floatTensor()) }
                    else { try file.write(name, integers: t.integers(), shape: t.shape) }
                }
                for (key, value) in archive.metadata.sorted(by: { $0.key < $1.key }) {
                    try file.write("__metadata__/\(key)", string: value)
                }
                try file.close()
            } catch let e as CheckpointError where e.path == temporary {
                // Name the file the user asked for, not the temporary one.
                throw CheckpointError(path, e.reason)
            }
        }
    }
}

/// One tensor as a file describes it, without its data.
public struct TensorHeader: Sendable, Equatable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    /// Bytes of the data, −1 when the shape's size overflows (a hostile file).
    public var byteCount: Int
}

public struct ArchiveHeaders: Sendable {
    public var tensors: [TensorHeader]
    public var metadata: [String: String]

    public init(tensors: [TensorHeader], metadata: [String: String]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The headers of an archive already read.
    public init(_ archive: TensorArchive) {
        tensors = archive.tensors.map { TensorHeader(name: $0.name, dtype: $0.tensor.dtype, shape: $0.tensor.shape, byteCount: $0.tensor.byteCount) }
        metadata = archive.metadata
    }
}
