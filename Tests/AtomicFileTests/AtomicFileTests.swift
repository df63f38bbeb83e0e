// The write-to-temporary-then-rename helper behind every file the project writes.
import AtomicFile
import Foundation
import Testing

private struct WriteFailed: Error {}

@Suite("AtomicFile")
struct AtomicFileTests {
    let folder: String = {
        let path = NSTemporaryDirectory() + "atomic-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    private func contents(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
    private func leftovers() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] }

    @Test(arguments: [false, true])
    func replacesTheFileWhole(durable: Bool) throws {
        let path = folder + "/out.txt"
        try "old".write(toFile: path, atomically: false, encoding: .utf8)
        try AtomicFile.write(to: path, durable: durable, makeError: { _ in WriteFailed() }) { temporary in
            #expect(temporary != path)
            #expect(contents(path) == "old")  // nothing visible until the rename
            try "new".write(toFile: temporary, atomically: false, encoding: .utf8)
        }
        #expect(contents(path) == "new")
        #expect(leftovers() == ["out.txt"])
    }

    @Test func aFailedWriteLeavesTheOldFileAndNoTemporary() {
        let path = folder + "/out.txt"
        try? "old".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: WriteFailed.self) {
            try AtomicFile.write(to: path, makeError: { _ in WriteFailed() }) { temporary in
                try "half".write(toFile: temporary, atomically: false, encoding: .utf8)
                throw WriteFailed()
            }
        }
        #expect(contents(path) == "old")
        #expect(leftovers() == ["out.txt"])
    }

    @Test func aMissingFolderIsReportedThroughTheWriter() {
        let path = folder + "/no/such/folder/out.txt"
        #expect(throws: (any Error).self) {
            try AtomicFile.write(to: path, makeError: { _ in WriteFailed() }) { temporary in
                try "x".write(toFile: temporary, atomically: false, encoding: .utf8)
            }
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
