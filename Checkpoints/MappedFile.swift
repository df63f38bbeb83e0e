// A checkpoint file memory-mapped for reading: readers touch only the pages they parse
// (a header, a pickle, a directory), never the whole file.
import Foundation

enum MappedFile {
    /// The file's bytes, mapped; a missing or unreadable file is named in one line.
    static func contents(of path: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else { throw CheckpointError(path, "no such file") }
        do { return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) }
        catch { throw CheckpointError(path, "cannot read: \(error.localizedDescription)") }
    }
}
