// SHA-256 of input files and folders, for the step identities of the table orchestration.
// A data set of hundreds of MB is hashed once: digests are remembered in
// `OUT/cache/digests.json` by (path, size, modification time), so a later plan over the
// same files only stats them.
import AtomicFile
import Crypto
import Evaluation
import Foundation
import Imaging

final class FileDigests {
    private let cachePath: String
    private var cache: [String: String]
    private var changed = false
    /// A dry run without --data: a missing `$DATA` path gets a placeholder digest.
    let allowMissingData: Bool

    init(cacheFolder: String, allowMissingData: Bool = false) {
        self.allowMissingData = allowMissingData
        cachePath = (cacheFolder as NSString).appendingPathComponent("digests.json")
        let data = FileManager.default.contents(atPath: cachePath)
        cache = data.flatMap { try? JSONDecoder().decode([String: String].self, from: $0) } ?? [:]
    }

    /// The file's SHA-256; an error names a missing file.
    func file(_ path: String) throws -> String {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            if allowMissingData, path.hasPrefix("$DATA") { return "missing:\(path)" }
            throw TableSpecError("\(path): no such file")
        }
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? -1
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let key = "\((path as NSString).standardizingPath)|\(size)|\(modified)"
        if let known = cache[key] { return known }
        let digest = try sha256(ofFile: path)
        cache[key] = digest
        changed = true
        return digest
    }

    /// A digest of a folder's PNG images: their names and SHA-256s, in name order.
    func folder(_ path: String) throws -> String {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            if allowMissingData, path.hasPrefix("$DATA") { return "missing:\(path)" }
            throw TableSpecError("\(path): no such folder")
        }
        let lines = try ImageFolder.list(path).map { "\(($0 as NSString).lastPathComponent) \(try file($0))" }
        return Digest.text(lines.joined(separator: "\n"))
    }

    func save() throws {
        guard changed else { return }
        try Folders.create((cachePath as NSString).deletingLastPathComponent)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try OutputFile.write(try encoder.encode(cache), to: cachePath)
        changed = false
    }
}

enum Digest {
    /// SHA-256 of a text, hex.
    static func text(_ s: String) -> String {
        SHA256.hash(data: Data(s.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

enum OutputFile {
    /// Writes `data` atomically (temporary file + rename, fsynced): a killed run leaves the
    /// old file or the new one, never a torn one.
    static func write(_ data: Data, to path: String) throws {
        try Folders.create((path as NSString).deletingLastPathComponent)
        try AtomicFile.write(to: path, durable: true, makeError: { TableSpecError("\(path): \($0)") }) { temporary in
            try data.write(to: URL(fileURLWithPath: temporary))
        }
    }

    static func write(_ text: String, to path: String) throws { try write(Data(text.utf8), to: path) }
}
