// The structural check before libhdf5 (`HDF5Check`): files our writer makes pass it, and a
// damaged structure is named before libhdf5 reads it.
import Checkpoints
import Foundation
import TestSupport
import Testing

struct HDF5CheckTests {
    /// A written archive with nested groups (`__metadata__/…`) and enough datasets for a
    /// B-tree of more than one symbol node.
    func writtenFile(_ dir: URL) throws -> (path: String, bytes: [UInt8]) {
        var archive = try CheckpointFormat.read(FixturePaths.path("Tests/Fixtures/pth/vgg19_layout.pth"))
        archive.metadata = ["a": "1", "b": "two"]
        let path = dir.appendingPathComponent("x.h5").path
        try CheckpointFormat.write(archive, to: path)
        return (path, [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test func writtenFilesPass() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (path, _) = try writtenFile(dir)
        try HDF5Check.validate(path)
        #expect(try CheckpointFormat.read(path).tensors.count == 38)
    }

    /// Each damage, as a (byte offset, little-endian value) patch of the superblock or a cut.
    @Test(arguments: [
        ("cut", 0, UInt64(0), "truncated?"),
        ("root object header far away", 64, UInt64(1) << 40, "the root group at address 1099511627776 lies outside"),
        ("B-tree K of 0", 16, UInt64(0), "B-tree sizes 0"),
        ("a free-space manager", 32, UInt64(96), "free-space or driver information"),
        ("superblock version 2", 8, UInt64(2), "superblock version 2"),
    ])
    func damageIsNamed(_ what: String, _ offset: Int, _ value: UInt64, _ expected: String) throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var (path, bytes) = try writtenFile(dir)
        if what == "cut" { bytes.removeLast(200) }
        else {
            let width = offset == 8 ? 1 : offset == 16 ? 2 : 8
            for i in 0..<width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try CheckpointFormat.read(path)
            Issue.record("\(what): read without an error")
        } catch let error as CheckpointError {
            #expect(error.path == path && error.reason.contains(expected), "\(what): \(error)")
            #expect(!error.description.contains("\n"))
        }
    }
}
