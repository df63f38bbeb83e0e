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

    /// A link planted where the temporary used to go (`.NAME.PID.tmp`, guessable) is not
    /// followed: the temporary gets an unpredictable name and is created exclusively.
    @Test func aPlantedSymlinkDoesNotRedirectTheWrite() throws {
        let path = folder + "/out.txt", victim = folder + "/victim.txt"
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        let guessed = folder + "/.out.txt.\(ProcessInfo.processInfo.processIdentifier).tmp"
        try FileManager.default.createSymbolicLink(atPath: guessed, withDestinationPath: victim)
        var used: [String] = []
        for _ in 0..<2 {
            try AtomicFile.write(to: path, makeError: { _ in WriteFailed() }) { temporary in
                used.append(temporary)
                let attributes = try FileManager.default.attributesOfItem(atPath: temporary)
                #expect(attributes[.type] as? FileAttributeType == .typeRegular && (attributes[.size] as? Int) == 0)
                try "new".write(toFile: temporary, atomically: false, encoding: .utf8)
            }
        }
        #expect(used.count == 2 && used[0] != used[1] && !used.contains(guessed))
        #expect(contents(victim) == "precious" && contents(path) == "new")
    }

    @Test func orphanTemporariesAreRemovedAndNothingElse() throws {
        let names = [".checkpoint.h5.1a2b3c4d5e6f7081.tmp", ".out.png.ff.tmp", ".lock", "notes.tmp", ".hidden", "checkpoint.h5"]
        for name in names { try "x".write(toFile: folder + "/" + name, atomically: false, encoding: .utf8) }
        let removed = AtomicFile.removeOrphans(in: folder)
        #expect(Set(removed) == [".checkpoint.h5.1a2b3c4d5e6f7081.tmp", ".out.png.ff.tmp"])
        #expect(Set(leftovers()) == [".lock", "notes.tmp", ".hidden", "checkpoint.h5"])
    }

    @Test func foldersInTheWayOfAFolderAreNamedPlainly() throws {
        let file = folder + "/file"
        try "x".write(toFile: file, atomically: false, encoding: .utf8)
        #expect(throws: FolderError("\(file) is a file, but a folder is needed there")) { try Folders.create(file) }
        #expect(throws: FolderError("cannot create the folder \(file)/a/b: \(file) is a file")) { try Folders.create(file + "/a/b") }
        try Folders.create(folder + "/new/deeper")
        try Folders.create(folder + "/new/deeper")  // already there: nothing to do
        #expect(FileManager.default.fileExists(atPath: folder + "/new/deeper"))
    }
}
