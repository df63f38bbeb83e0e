// Writing a file so that readers see either the old content or the new, never a torn
// file: the content goes to a temporary file in the same folder (same file system, so
// rename(2) replaces atomically), optionally fsynced, then renamed over the target. On
// any failure the temporary is removed and the old file stays as it was. PNG outputs,
// safetensors/HDF5 archives and training checkpoints all write through here.
import Foundation

public enum AtomicFile {
    /// Calls `write` with a temporary path next to `path`, then moves that file over
    /// `path`. With `durable`, the file and its folder are fsynced so the new content
    /// survives a power loss (training checkpoints). Errors thrown by `write` propagate
    /// unchanged; a failed fsync or rename throws `makeError(reason)`.
    public static func write(to path: String, durable: Bool = false,
                             makeError: (String) -> any Error,
                             _ write: (_ temporaryPath: String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = try createTemporary(beside: url, makeError: makeError)
        do {
            try write(temporary)
            if durable, let reason = flushToDisk(temporary) { throw makeError(reason) }
            guard rename(temporary, path) == 0 else {
                throw makeError("cannot move the new file into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        // The rename is in the folder's entry: flush it too (best effort).
        if durable { _ = flushToDisk(url.deletingLastPathComponent().path) }
    }

    /// Creates an empty temporary file beside `url` under an unpredictable name, with
    /// O_CREAT | O_EXCL | O_NOFOLLOW: a file or symbolic link planted under a guessable name
    /// cannot redirect the write elsewhere. The writer then opens it by path.
    static func createTemporary(beside url: URL, makeError: (String) -> any Error) throws -> String {
        let folder = url.deletingLastPathComponent()
        for _ in 0..<16 {
            let tag = String(UInt64.random(in: .min ... .max), radix: 16)
            let candidate = folder.appendingPathComponent(".\(url.lastPathComponent).\(tag)\(temporarySuffix)").path
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if fd >= 0 {
                close(fd)
                return candidate
            }
            if errno != EEXIST {
                throw makeError("cannot create a temporary file in \(folder.path): \(String(cString: strerror(errno)))")
            }
        }
        throw makeError("cannot create a temporary file in \(folder.path): every name tried exists")
    }

    static let temporarySuffix = ".tmp"

    /// Removes temporaries that a killed write left in `folder` (hidden files named
    /// `.<name>.<tag>.tmp`, as `write` makes them). Call it only while no other process
    /// writes there (a run folder, under its lock). Returns the names removed.
    @discardableResult
    public static func removeOrphans(in folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let orphans = names.filter { name in
            guard name.hasPrefix("."), name.hasSuffix(temporarySuffix) else { return false }
            let parts = name.dropFirst().dropLast(temporarySuffix.count).split(separator: ".")
            guard parts.count >= 2, let tag = parts.last else { return false }
            return tag.allSatisfy(\.isHexDigit)
        }
        for name in orphans { try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent(name)) }
        return orphans
    }

    /// fsync of a file or folder; nil on success, else the reason.
    static func flushToDisk(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return "cannot open \(path) for fsync: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        return fsync(fd) == 0 ? nil : "fsync failed: \(String(cString: strerror(errno)))"
    }
}
