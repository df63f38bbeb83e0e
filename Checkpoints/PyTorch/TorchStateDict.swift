// Flattening a torch object into named tensors and metadata: nested dictionary keys
// are joined with "."; tensors become archive entries; every other leaf (epoch numbers,
// strings, learning rates) becomes a metadata string.

import Foundation

extension TorchFile {
    /// Reads `path` and flattens it (see `flatten`).
    public static func archive(_ path: String) throws -> TensorArchive {
        flatten(try load(path))
    }

    public static func flatten(_ value: PickleValue) -> TensorArchive {
        let (leaves, metadata) = namedLeaves(value)
        var archive = TensorArchive()
        archive.metadata = metadata
        for (name, leaf) in leaves { if case .tensor(let t) = leaf { archive.tensors.append((name, t)) } }
        return archive
    }

    /// Every tensor leaf (`.tensor`, or `.pendingTensor` in a headers-only read) with its
    /// name — nested dictionary keys joined with "." — and every other leaf as metadata.
    static func namedLeaves(_ value: PickleValue) -> (leaves: [(String, PickleValue)], metadata: [String: String]) {
        var leaves: [(String, PickleValue)] = []
        var metadata: [String: String] = [:]
        func key(_ k: PickleValue) -> String {
            if case .string(let s) = k { return s }
            return k.description
        }
        func containsTensors(_ v: PickleValue) -> Bool {
            switch v {
            case .tensor, .pendingTensor: return true
            case .dict(let d): return d.entries.contains { containsTensors($0.value) }
            case .list(let l): return l.items.contains(where: containsTensors)
            case .tuple(let t): return t.contains(where: containsTensors)
            default: return false
            }
        }
        func visit(_ v: PickleValue, _ prefix: String) {
            let join = { (k: String) in prefix.isEmpty ? k : "\(prefix).\(k)" }
            switch v {
            case .tensor, .pendingTensor: leaves.append((prefix.isEmpty ? "tensor" : prefix, v))
            case .dict(let d): for (k, item) in d.entries { visit(item, join(key(k))) }
            case .list(let l) where containsTensors(v): for (i, item) in l.items.enumerated() { visit(item, join(String(i))) }
            case .tuple(let t) where containsTensors(v): for (i, item) in t.enumerated() { visit(item, join(String(i))) }
            default: metadata[prefix.isEmpty ? "value" : prefix] = v.description
            }
        }
        visit(value, "")
        return (leaves, metadata)
    }

    /// The tensors' names, dtypes and shapes and the metadata of a torch.save zip file,
    /// without reading any storage (legacy files are read whole).
    public static func headers(_ path: String) throws -> ArchiveHeaders {
        guard FileManager.default.fileExists(atPath: path) else { throw CheckpointError(path, "no such file") }
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)) }
        catch { throw CheckpointError(path, "cannot read: \(error.localizedDescription)") }
        guard bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) else { return ArchiveHeaders(try archive(path)) }
        try ZipCheck.validate(bytes, path: path)
        var views: [TensorHeader] = []
        let value = try loadZip(path, headersOnly: { ref, shape in
            views.append(TensorHeader(name: "", dtype: ref.dtype, shape: shape, byteCount: ReadLimits.product(shape + [ref.dtype.byteSize]) ?? -1))
            return views.count - 1
        })
        let (leaves, metadata) = namedLeaves(value)
        var headers = ArchiveHeaders(tensors: [], metadata: metadata)
        for (name, leaf) in leaves {
            if case .pendingTensor(let slot) = leaf { var h = views[slot]; h.name = name; headers.tensors.append(h) }
        }
        return headers
    }
}

