// `ecdp prepare`'s recipes: crop boxes, sizes and names of each kind, the seeded patch draw,
// and verification catching a changed file.
import Foundation
import Grad
import Imaging
import TestSupport
import Testing
@testable import Evaluation

@Suite("Test-set preparation")
struct TestSetPreparationTests {
    /// Sources: a 50×37 and a 64×64 cut of the demo photographs.
    func sources(in dir: URL) throws -> String {
        let folder = dir.appendingPathComponent("src").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let photo = try PNG.read(FixturePaths.path("Training/data/demo/test/chelsea.png"))
        try PNG.write(photo.slice(start: [0, 10, 20], size: [3, 37, 50]), to: "\(folder)/a.png")
        try PNG.write(photo.slice(start: [0, 100, 100], size: [3, 64, 64]), to: "\(folder)/b.png")
        return folder
    }

    @Test func eachKindCropsResizesAndNames() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = try sources(in: dir)
        let div2k = try TestSetPreparation.prepare(.defaults(.div2k, scale: nil, size: nil, count: nil, seed: nil), input: src,
                                                   output: dir.appendingPathComponent("div2k").path)
        #expect(div2k.entries.map(\.box) == [[0, 0, 48, 36], [0, 0, 64, 64]])
        #expect(div2k.entries.map(\.lr) == ["lr/ax4.png", "lr/bx4.png"])
        #expect(try PNG.read(dir.appendingPathComponent("div2k/lr/ax4.png").path).shape == [3, 9, 12])

        // ImageNet: the centred square, offset (50 − 37)/2 = 6.5 rounded half to even → 6.
        let imagenet = try TestSetPreparation.prepare(.defaults(.imagenet, scale: nil, size: 16, count: nil, seed: nil), input: src,
                                                      output: dir.appendingPathComponent("imagenet").path)
        #expect(imagenet.entries[0].box == [6, 0, 37, 37])
        #expect(try PNG.read(dir.appendingPathComponent("imagenet/hr/a.png").path).shape == [3, 16, 16])
        #expect(try PNG.read(dir.appendingPathComponent("imagenet/lr/ax4.png").path).shape == [3, 4, 4])

        let faces = try TestSetPreparation.prepare(.defaults(.faces, scale: nil, size: 16, count: nil, seed: nil), input: src,
                                                   output: dir.appendingPathComponent("faces").path)
        #expect(faces.entries[0].box == [0, 0, 50, 37] && faces.recipe.scale == 8)
        #expect(try PNG.read(dir.appendingPathComponent("faces/lr/ax8.png").path).shape == [3, 2, 2])
    }

    @Test func patchesAreDrawnFromTheSeedAndVerified() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = try sources(in: dir)
        let recipe = TestSetRecipe.defaults(.patches, scale: 4, size: 40, count: 6, seed: 7)
        let out = dir.appendingPathComponent("patches").path
        let first = try TestSetPreparation.prepare(recipe, input: src, output: out)
        // Only b.png (64×64) holds a 40×40 patch; the draw is a function of the seed.
        #expect(first.entries.allSatisfy { $0.source == "b.png" && $0.box[2] == 40 && $0.box[0] <= 24 && $0.box[1] <= 24 })
        #expect(first.entries.map(\.hr) == (0..<6).map { String(format: "hr/patch%04d.png", $0) })
        let again = try TestSetPreparation.plan(recipe, sources: try ImageFolder.list(src)).map(\.box)
        #expect(again == first.entries.map(\.box))
        var other = recipe
        other.seed = 8
        #expect(try TestSetPreparation.plan(other, sources: try ImageFolder.list(src)).map(\.box) != again)
        // LR by torchvision's antialiased bicubic, 8-bit.
        let hr = try PNG.read("\(out)/hr/patch0000.png"), lr = try PNG.read("\(out)/lr/patch0000x4.png")
        #expect(lr.scalars == ColorSpace.quantized8(TorchvisionResize.resize(hr, height: 10, width: 10)).scalars)

        #expect(try TestSetPreparation.verify(out) == [])
        try PNG.write(Tensor.zeros([3, 10, 10]), to: "\(out)/lr/patch0003x4.png")
        #expect(try TestSetPreparation.verify(out) == ["lr/patch0003x4.png: differs from what b.png gives"])
        #expect(throws: EvaluationInputError.self) {
            try TestSetPreparation.prepare(.defaults(.patches, scale: 4, size: 128, count: 1, seed: 0), input: src,
                                           output: dir.appendingPathComponent("big").path)
        }
    }
}
