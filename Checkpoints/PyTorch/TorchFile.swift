// PyTorch `.pth` / `.pt` files, read in pure Swift: torch's zip container (torch ≥ 1.6:
// `<archive>/data.pkl` + one raw file per storage in `<archive>/data/`) and the legacy
// stream (magic number, protocol, system info, the object pickle, the storage keys, then
// each storage as an 8-byte element count and its bytes).
import Foundation
import ZIPFoundation

public enum TorchFile {
    /// torch's legacy magic number 0x1950a86a20f9469cfc6c, little-endian.
    static let legacyMagic: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]

    /// Reads the object a torch file holds (usually a dict).
    public static func load(_ path: String) throws -> PickleValue {
        let data = try mapped(path)
        if isZip(data) {
            try ZipCheck.validate(data, path: path)
            return try loadZip(path)
        }
        return try load(data, name: path)
    }

    /// Reads a legacy torch stream held in memory (`name` labels errors). A zip container
    /// must be read from its file.
    public static func load(contents bytes: [UInt8], name: String) throws -> PickleValue {
        try load(Data(bytes), name: name)
    }

    static func load(_ data: Data, name: String, headersOnly: ((TorchStorageRef, [Int]) -> Int)? = nil) throws -> PickleValue {
        guard !data.isEmpty else { throw CheckpointError(name, "empty file") }
        if isZip(data) { throw CheckpointError(name, "a zip container: read it from its file") }
        if data.first == 0x80 { return try loadLegacy(data, path: name, headersOnly: headersOnly) }
        throw CheckpointError(name, "not a PyTorch file (neither a zip archive nor a pickle stream)")
    }

    /// The file memory-mapped: readers touch only the pages they need.
    static func mapped(_ path: String) throws -> Data {
        let data = try MappedFile.contents(of: path)
        guard !data.isEmpty else { throw CheckpointError(path, "empty file") }
        return data
    }

    static func isZip(_ data: Data) -> Bool { data.starts(with: [0x50, 0x4B, 0x03, 0x04]) }

    // MARK: Zip container

    /// With `headersOnly`, no storage is read: each tensor becomes `.pendingTensor(slot)`,
    /// the slot `headersOnly(storage, shape)` returns.
    static func loadZip(_ path: String, headersOnly: ((TorchStorageRef, [Int]) -> Int)? = nil) throws -> PickleValue {
        let archive: Archive
        do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) }
        catch { throw CheckpointError(path, "damaged or truncated zip archive (\(error))") }
        guard let pickleEntry = archive.first(where: { $0.path.hasSuffix("data.pkl") && $0.path.split(separator: "/").count == 2 }) else {
            throw CheckpointError(path, "zip archive without <name>/data.pkl: not a torch.save file")
        }
        let prefix = String(pickleEntry.path.dropLast("data.pkl".count))
        // Read once: every entry's compressed size is checked against it.
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? Int.max
        if let order = archive[prefix + "byteorder"] {
            let text = String(decoding: try extract(archive, order, path, fileSize: fileSize), as: UTF8.self)
            guard text.hasPrefix("little") else { throw CheckpointError(path, "big-endian tensors are not supported") }
        }
        let pickle = try extract(archive, pickleEntry, path, fileSize: fileSize)
        var storages: [String: [UInt8]] = [:]
        let budget = ExpansionBudget()
        var unpickler = Unpickler(
            data: Data(pickle), path: path,
            persistentLoad: { pid in try storageReference(pid, path: path) },
            rebuildTensor: { ref, offset, shape, strides in
                if let headersOnly { return .pendingTensor(headersOnly(ref, shape)) }
                if storages[ref.key] == nil {
                    guard let entry = archive[prefix + "data/" + ref.key] else {
                        throw CheckpointError(path, "storage \(ref.key) is missing from the archive")
                    }
                    storages[ref.key] = try extract(archive, entry, path, fileSize: fileSize)
                }
                return .tensor(try gather(storages[ref.key]!, ref, offset: offset, shape: shape, strides: strides, path: path, budget: budget))
            })
        return try unpickler.load().0
    }

    /// torch.save stores zip entries uncompressed; a compressed entry may inflate at most
    /// this many times (a zip bomb is refused before it is read).
    static let inflationLimit = 32

    static func extract(_ archive: Archive, _ entry: Entry, _ path: String, fileSize: Int) throws -> [UInt8] {
        // A compressed size beyond the file is a lie; count it as the file's size.
        let declared = Int(clamping: entry.uncompressedSize), compressed = min(Int(clamping: entry.compressedSize), fileSize)
        let (bound, overflow) = max(compressed, 1).multipliedReportingOverflow(by: inflationLimit)
        guard declared <= (overflow ? .max : bound) || declared <= 1 << 20 else {
            throw CheckpointError(path, "zip entry \(entry.path) inflates \(compressed) bytes to \(declared) "
                                  + "(torch.save stores entries uncompressed; refusing a likely zip bomb)")
        }
        var out = [UInt8]()
        out.reserveCapacity(min(declared, 64 << 20))  // grows past that only with real data
        struct Overrun: Error {}
        do {
            _ = try archive.extract(entry, skipCRC32: false) { chunk in
                guard out.count + chunk.count <= declared else { throw Overrun() }
                out.append(contentsOf: chunk)
            }
        } catch is Overrun {
            throw CheckpointError(path, "zip entry \(entry.path) holds more than the \(declared) bytes it declares")
        } catch {
            throw CheckpointError(path, "cannot extract \(entry.path): damaged or truncated archive (\(error))")
        }
        return out
    }

    /// ('storage', storage_type, key, location, numel[, view_metadata]) → a reference.
    static func storageReference(_ pid: PickleValue, path: String) throws -> PickleValue {
        guard case .tuple(let t) = pid, t.count >= 5, case .string("storage") = t[0],
              case .global(_, let typeName) = t[1], case .string(let key) = t[2], case .int(let count) = t[4] else {
            throw CheckpointError(path, "unsupported persistent id \(pid)")
        }
        guard let dtype = Unpickler.storageTypes[typeName] else { throw CheckpointError(path, "unsupported storage type \(typeName)") }
        return .storage(TorchStorageRef(dtype: dtype, key: key, count: Int(count)))
    }

    /// The strided view (offset, shape, strides in elements) of a storage, gathered on use.
    /// Sizes come from the file, so every product is overflow-checked, and the bytes a view
    /// adds beyond its storage's (an `expand`ed or overlapping view) are charged to `budget`.
    static func gather(_ storage: [UInt8], _ ref: TorchStorageRef, offset: Int, shape: [Int], strides: [Int],
                       path: String, budget: ExpansionBudget) throws -> RawTensor {
        let size = ref.dtype.byteSize
        guard let storageBytes = ReadLimits.product([ref.count, size]) else {
            throw CheckpointError(path, "storage \(ref.key) claims \(ref.count) elements")
        }
        guard storage.count >= storageBytes else {
            throw CheckpointError(path, "storage \(ref.key) holds \(storage.count) bytes, expected \(storageBytes) (truncated?)")
        }
        guard shape.count == strides.count, strides.allSatisfy({ $0 >= 0 }), let count = ReadLimits.product(shape),
              let bytes = ReadLimits.product([count, size]) else {
            throw CheckpointError(path, "tensor with shape \(shape) and strides \(strides)")
        }
        if count > 0 {
            var last = offset
            for (n, stride) in zip(shape, strides) {
                guard let step = ReadLimits.product([n - 1, stride]) else { last = -1; break }
                let (sum, overflow) = last.addingReportingOverflow(step)
                if overflow { last = -1; break }
                last = sum
            }
            guard offset >= 0, last >= offset, last < ref.count else {
                throw CheckpointError(path, "tensor view (offset \(offset), shape \(shape), strides \(strides)) outside storage \(ref.key) of \(ref.count) elements")
            }
        }
        // Charged now, gathered later: whatever the tensor's reader does, the file cannot
        // make it materialise more than the cap.
        try budget.spend(bytes - storageBytes, on: "a tensor view of shape \(shape) over storage \(ref.key) (\(storageBytes) bytes)", path: path)
        return RawTensor(dtype: ref.dtype, shape: shape, viewing: storage, offset: offset, strides: strides)
    }

    // MARK: Legacy stream

    /// With `headersOnly`, nothing after the object pickle is read (see `loadZip`).
    static func loadLegacy(_ data: Data, path: String, headersOnly: ((TorchStorageRef, [Int]) -> Int)? = nil) throws -> PickleValue {
        func plain(_ start: Int) throws -> (PickleValue, Int) {
            var u = Unpickler(data: data, path: path,
                              persistentLoad: { _ in throw CheckpointError(path, "unexpected persistent id in a header pickle") },
                              rebuildTensor: { _, _, _, _ in throw CheckpointError(path, "unexpected tensor in a header pickle") })
            return try u.load(from: start)
        }
        let (magic, afterMagic) = try plain(0)
        guard case .bigInt(let m) = magic, m == legacyMagic else {
            throw CheckpointError(path, "a pickle stream, but not a PyTorch file (no torch magic number)")
        }
        let (_, afterProtocol) = try plain(afterMagic)
        let (_, afterSysInfo) = try plain(afterProtocol)
        // The object pickle refers to storages that follow it; collect the references
        // and build tensors once the storage bytes are known.
        var views: [(ref: TorchStorageRef, offset: Int, shape: [Int], strides: [Int], slot: Int)] = []
        var u = Unpickler(data: data, path: path,
                          persistentLoad: { pid in try storageReference(pid, path: path) },
                          rebuildTensor: { ref, offset, shape, strides in
                              if let headersOnly { return .pendingTensor(headersOnly(ref, shape)) }
                              views.append((ref, offset, shape, strides, views.count))
                              return .pendingTensor(views.count - 1)
                          })
        let (object, afterObject) = try u.load(from: afterSysInfo)
        if headersOnly != nil { return object }
        let (keysValue, afterKeys) = try plain(afterObject)
        guard case .list(let keyList) = keysValue else { throw CheckpointError(path, "legacy storage key list missing") }
        var storages: [String: [UInt8]] = [:]
        var cursor = afterKeys
        let sizes = Dictionary(views.map { ($0.ref.key, $0.ref.dtype.byteSize) }, uniquingKeysWith: { a, _ in a })
        let budget = ExpansionBudget()
        let start = data.startIndex
        for item in keyList.items {
            guard case .string(let key) = item else { throw CheckpointError(path, "non-string storage key") }
            guard cursor <= data.count - 8 else { throw CheckpointError(path, "truncated file (storage \(key) missing)") }
            let count = data[(start + cursor)..<(start + cursor + 8)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            cursor += 8
            guard let n = ReadLimits.product([count, sizes[key] ?? 1]), n <= data.count - cursor else { throw CheckpointError(path, "truncated file (storage \(key) is cut short)") }
            // Each storage is copied once out of the mapped file; views share it.
            storages[key] = [UInt8](data[(start + cursor)..<(start + cursor + n)])
            cursor += n
        }
        var tensors: [RawTensor] = []
        for v in views {
            guard let s = storages[v.ref.key] else { throw CheckpointError(path, "storage \(v.ref.key) missing") }
            tensors.append(try gather(s, v.ref, offset: v.offset, shape: v.shape, strides: v.strides, path: path, budget: budget))
        }
        return replacePlaceholders(object, tensors)
    }

    static func replacePlaceholders(_ v: PickleValue, _ tensors: [RawTensor]) -> PickleValue {
        switch v {
        case .pendingTensor(let slot): return .tensor(tensors[slot])
        case .tuple(let items): return .tuple(items.map { replacePlaceholders($0, tensors) })
        case .list(let l): l.items = l.items.map { replacePlaceholders($0, tensors) }; return .list(l)
        case .dict(let d):
            d.entries = d.entries.map { ($0.key, replacePlaceholders($0.value, tensors)) }
            return .dict(d)
        default: return v
        }
    }
}
