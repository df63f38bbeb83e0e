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
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp").path
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

    /// fsync of a file or folder; nil on success, else the reason.
    static func flushToDisk(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return "cannot open \(path) for fsync: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        return fsync(fd) == 0 ? nil : "fsync failed: \(String(cString: strerror(errno)))"
    }
}
