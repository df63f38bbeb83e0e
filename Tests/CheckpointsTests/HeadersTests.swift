// Reading headers only (`ecdp inspect`): the same names, dtypes, shapes and sizes as a full
// read, for every format; and a file whose tensors claim terabytes is listed, not loaded.
import Checkpoints
import Foundation
import TestSupport
import Testing

struct HeadersTests {
    @Test(arguments: ["Checkpoints/pretrained/ecdp-small-demo.safetensors", "Tests/Fixtures/pth/alexnet_layout.pth",
                      "Tests/Fixtures/pth/vgg19_layout.pth"])
    func headersEqualAFullRead(_ file: String) throws {
        let path = FixturePaths.path(file)
        let headers = try CheckpointFormat.headers(path), full = ArchiveHeaders(try CheckpointFormat.read(path))
        #expect(headers.tensors.sorted { $0.name < $1.name } == full.tensors.sorted { $0.name < $1.name })
        #expect(headers.metadata == full.metadata)
    }

    @Test func aTrainingStateListsLikeItsFullRead() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let h5 = dir.appendingPathComponent("x.h5").path
        try CheckpointFormat.write(try CheckpointFormat.read(FixturePaths.path("Tests/Fixtures/pth/alexnet_layout.pth")), to: h5)
        let headers = try CheckpointFormat.headers(h5), full = ArchiveHeaders(try CheckpointFormat.read(h5))
        #expect(headers.tensors.sorted { $0.name < $1.name } == full.tensors.sorted { $0.name < $1.name })
        #expect(headers.metadata == full.metadata)
    }

    /// 4 TB claimed in a 1.5 KB file: listed with its size; a full read refuses it.
    @Test(arguments: ["Tests/Fixtures/pth/hostile_expand.pth", "Tests/Fixtures/h5/hostile_huge_dataset.h5"])
    func hugeClaimsAreListedNotLoaded(_ file: String) throws {
        let headers = try CheckpointFormat.headers(FixturePaths.path(file))
        #expect(headers.tensors.count == 1 && headers.tensors[0].shape == [1_000_000, 1_000_000]
                && headers.tensors[0].byteCount == 4_000_000_000_000)
        #expect(throws: (any Error).self) { _ = try CheckpointFormat.read(FixturePaths.path(file)) }
        let overflow = try CheckpointFormat.headers(FixturePaths.path("Tests/Fixtures/pth/hostile_overflow.pth"))
        #expect(overflow.tensors.first?.byteCount == -1)
    }
}
