// Flattening a torch object into named tensors and metadata: nested dictionary keys
// are joined with "."; tensors become archive entries; every other leaf (epoch numbers,
// strings, learning rates) becomes a metadata string.

extension TorchFile {
    /// Reads `path` and flattens it (see `flatten`).
    public static func archive(_ path: String) throws -> TensorArchive {
        flatten(try load(path))
    }

    public static func flatten(_ value: PickleValue) -> TensorArchive {
        var archive = TensorArchive()
        func key(_ k: PickleValue) -> String {
            if case .string(let s) = k { return s }
            return k.description
        }
        func containsTensors(_ v: PickleValue) -> Bool {
            switch v {
            case .tensor: return true
            case .dict(let d): return d.entries.contains { containsTensors($0.value) }
            case .list(let l): return l.items.contains(where: containsTensors)
            case .tuple(let t): return t.contains(where: containsTensors)
            default: return false
            }
        }
        func visit(_ v: PickleValue, _ prefix: String) {
            let join = { (k: String) in prefix.isEmpty ? k : "\(prefix).\(k)" }
            switch v {
            case .tensor(let t): archive.tensors.append((prefix.isEmpty ? "tensor" : prefix, t))
            case .dict(let d): for (k, item) in d.entries { visit(item, join(key(k))) }
            case .list(let l) where containsTensors(v): for (i, item) in l.items.enumerated() { visit(item, join(String(i))) }
            case .tuple(let t) where containsTensors(v): for (i, item) in t.enumerated() { visit(item, join(String(i))) }
            default: archive.metadata[prefix.isEmpty ? "value" : prefix] = v.description
            }
        }
        visit(value, "")
        return archive
    }
}
