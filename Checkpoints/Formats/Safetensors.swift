// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}),
// then the raw little-endian data; offsets are relative to the end of the header.
import AtomicFile
import Foundation

public enum Safetensors {
    /// Headers larger than this are refused as corrupt (the reference implementation
    /// uses the same 100 MB bound).
    public static let maxHeaderBytes = 100_000_000

    public static func read(_ path: String) throws -> TensorArchive {
        let data = try MappedFile.contents(of: path)
        return try parse(data, path: path)
    }

    enum Parsed { case archive(TensorArchive), headers(ArchiveHeaders) }

    /// The tensors' headers and the metadata, reading only the header (the data stays mapped, untouched).
    public static func headers(_ path: String) throws -> ArchiveHeaders {
        let data = try MappedFile.contents(of: path)
        guard case .headers(let h) = try parse(data, path: path, headersOnly: true) else { fatalError("unreachable") }
        return h
    }

    static func parse(_ data: Data, path: String) throws -> TensorArchive {
        guard case .archive(let a) = try parse(data, path: path, headersOnly: false) else { fatalError("unreachable") }
        return a
    }

    static func parse(_ data: Data, path: String, headersOnly: Bool) throws -> Parsed {
        func bad(_ reason: String) -> CheckpointError { CheckpointError(path, "not a valid safetensors file: \(reason)") }
        guard data.count >= 8 else { throw bad("\(data.count) bytes, shorter than the 8-byte header length") }
        let headerLength = data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian }
        guard headerLength <= UInt64(maxHeaderBytes) else { throw bad("header length \(headerLength) is absurd") }
        guard 8 + Int(headerLength) <= data.count else {
            throw bad("header length \(headerLength) runs past the end of the \(data.count)-byte file (truncated?)")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(headerLength)))
        guard let json = try? JSONSerialization.jsonObject(with: headerData), let header = json as? [String: Any] else {
            throw bad("the header is not a JSON object")
        }
        let body = data.count - 8 - Int(headerLength)
        var metadata: [String: String] = [:]
        if let meta = header["__metadata__"] {
            guard let m = meta as? [String: String] else { throw bad("__metadata__ must map strings to strings") }
            metadata = m
        }
        var entries: [(name: String, dtype: DType, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw bad("entry \(name) lacks dtype, shape or data_offsets")
            }
            guard let dtype = DType(rawValue: dtypeName) else { throw bad("entry \(name) has unsupported dtype \(dtypeName)") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw bad("entry \(name) has a negative dimension in \(shape)") }
            let (count, overflow) = shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d); return (p, acc.1 || o)
            }
            guard !overflow, count <= Int.max / 8 else { throw bad("entry \(name) has an absurd shape \(shape)") }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= body else {
                throw bad("entry \(name) has offsets [\(begin), \(end)) outside the \(body)-byte data section")
            }
            guard end - begin == count * dtype.byteSize else {
                throw bad("entry \(name) holds \(end - begin) bytes but \(dtypeName) \(shape) needs \(count * dtype.byteSize)")
            }
            entries.append((name, dtype, shape, begin, end))
        }
        entries.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        for (a, b) in zip(entries, entries.dropFirst()) where b.begin < a.end {
            throw bad("entries \(a.name) and \(b.name) overlap")
        }
        if headersOnly {
            return .headers(ArchiveHeaders(tensors: entries.map { TensorHeader(name: $0.name, dtype: $0.dtype, shape: $0.shape, byteCount: $0.end - $0.begin) },
                                           metadata: metadata))
        }
        let start = 8 + Int(headerLength)
        let tensors = entries.map { e in
            (name: e.name, tensor: RawTensor(dtype: e.dtype, shape: e.shape,
                                             bytes: [UInt8](data[(start + e.begin)..<(start + e.end)])))
        }
        return .archive(TensorArchive(tensors: tensors, metadata: metadata))
    }

    /// Writes `archive` (tensors in their own dtype, in the given order; the header is
    /// padded with spaces to a multiple of 8 bytes, as the reference writer does).
    /// Atomic: temporary file + rename.
    public static func write(_ archive: TensorArchive, to path: String) throws {
        var header: [String: Any] = [:]
        var offset = 0
        for (name, t) in archive.tensors {
            guard name != "__metadata__" else { throw CheckpointError(path, "a tensor may not be named __metadata__") }
            header[name] = ["dtype": t.dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + t.byteCount]]
            offset += t.byteCount
        }
        if !archive.metadata.isEmpty { header["__metadata__"] = archive.metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, t) in archive.tensors { out.append(contentsOf: t.bytes) }
        try AtomicFile.write(to: path, makeError: { CheckpointError(path, "cannot write: \($0)") }) { temporary in
            do {
                try out.write(to: URL(fileURLWithPath: temporary))
            } catch {
                throw CheckpointError(path, "cannot write: \(error.localizedDescription)")
            }
        }
    }
}
