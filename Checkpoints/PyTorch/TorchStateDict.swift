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

    /// The tensors' names, dtypes and shapes and the metadata of a torch file, without
    /// reading any storage: a zip container's pickle alone, or a legacy stream up to the
    /// end of its object pickle (the file is mapped, so the storages are never touched).
    public static func headers(_ path: String) throws -> ArchiveHeaders {
        let data = try mapped(path)
        var views: [TensorHeader] = []
        let collect = { (ref: TorchStorageRef, shape: [Int]) -> Int in
            views.append(TensorHeader(name: "", dtype: ref.dtype, shape: shape, byteCount: ReadLimits.product(shape + [ref.dtype.byteSize]) ?? -1))
            return views.count - 1
        }
        let value: PickleValue
        if isZip(data) {
            try ZipCheck.validate(data, path: path)
            value = try loadZip(path, headersOnly: collect)
        } else {
            value = try load(data, name: path, headersOnly: collect)
        }
        let (leaves, metadata) = namedLeaves(value)
        var headers = ArchiveHeaders(tensors: [], metadata: metadata)
        for (name, leaf) in leaves {
            if case .pendingTensor(let slot) = leaf { var h = views[slot]; h.name = name; headers.tensors.append(h) }
        }
        return headers
    }
}
