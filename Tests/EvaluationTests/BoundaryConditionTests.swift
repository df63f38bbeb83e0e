// find-bc on a tiny random model: deterministic for a seed, resumable after an interruption,
// shards merging to the single-process result, the winner no worse than any candidate, and
// its stored score recomputed from the artifact alone.
import Checkpoints
import ECDP
import Foundation
import Grad
import Imaging
import TestSupport
import Testing
@testable import Evaluation

@Suite("Boundary condition")
struct BoundaryConditionTests {
    static let tiny = ModelConfig(channels: [16, 32, 32], blocks: [1, 1, 1], rrdbFeatures: 16, rrdbGrowth: 8, rrdbBlocks: 2,
                                  rrdbSelection: [0, 1])

    func model() -> ECDPModel {
        let m = ECDPModel(config: Self.tiny, seed: 5)
        var rng = RandomGenerator(seed: 6)
        for (_, p) in m.parameters() { p.value = p.value + Tensor.randomNormal(p.shape, std: 0.02, using: &rng) }
        return m
    }

    func referenceFolder(_ dir: URL) throws -> String {
        let folder = dir.appendingPathComponent("refs").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let photo = try PNG.read(FixturePaths.path("Training/data/demo/test/face.png"))
        try PNG.write(photo.slice(start: [0, 120, 120], size: [3, 48, 48]), to: "\(folder)/a.png")
        try PNG.write(photo.slice(start: [0, 200, 150], size: [3, 40, 56]), to: "\(folder)/b.png")
        return folder
    }

    func search(_ refs: String, solver: String = "ddim:2", seed: UInt64 = 3) throws -> BoundaryConditionSearch {
        let references = try BoundaryConditionSearch.drawReferences(count: 3, size: 16, scale: 4, seed: seed, hrFolder: refs, lrFolder: nil)
        return try BoundaryConditionSearch(model: model(), modelSHA256: "test", solver: solver, metric: .l1, lpips: nil, candidates: 5,
                                           size: 16, seed: seed, references: references, scale: 4)
    }

    @Test func searchIsDeterministicResumableAndShardable() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let refs = try referenceFolder(dir)
        let s = try search(refs)
        #expect(s.references.allSatisfy { $0.box[0] % 4 == 0 && $0.box[1] % 4 == 0 && $0.lr.shape == [3, 4, 4] })

        let a = dir.appendingPathComponent("a.safetensors").path
        let first = try s.run(out: a)!
        #expect(first.scores.count == 5 && first.scores.allSatisfy { $0.count == 3 })
        let means = first.scores.map { $0.reduce(0, +) / 3 }
        #expect(means.allSatisfy { first.winnerMean <= $0 } && means[first.winner] == first.winnerMean)
        #expect(first.evaluations == 5 * 3 * 2)

        // The same seed in a fresh folder: the same artifact.
        let b = dir.appendingPathComponent("b.safetensors").path
        _ = try search(refs).run(out: b)
        let (archiveA, archiveB) = (try Safetensors.read(a), try Safetensors.read(b))
        #expect(archiveA.tensors[0].tensor == archiveB.tensors[0].tensor && archiveA.metadata == archiveB.metadata)

        // Interrupted: the last line lost and the one before cut short; the rerun finishes the same.
        let scoresFile = a + ".run/scores.csv"
        var lines = try String(contentsOfFile: scoresFile, encoding: .utf8).split(separator: "\n").map(String.init)
        lines = Array(lines.dropLast(2)) + [String(lines[lines.count - 2].prefix(5))]
        try lines.joined(separator: "\n").write(toFile: scoresFile, atomically: true, encoding: .utf8)
        let resumed = try s.run(out: a)!
        #expect(resumed.scores == first.scores && resumed.winner == first.winner)
        #expect(try String(contentsOfFile: scoresFile, encoding: .utf8).split(separator: "\n").count == 5)

        // Two shards, then the merging call: the single-process result.
        let c = dir.appendingPathComponent("c.safetensors").path
        #expect(try s.run(out: c, shard: (0, 2)) == nil)
        #expect(try s.run(out: c, shard: (1, 2)) == nil)
        #expect(FileManager.default.fileExists(atPath: c) == false)
        let merged = try s.run(out: c)!
        #expect(merged.scores == first.scores && merged.winner == first.winner)
        let mergeFile = (try? String(contentsOfFile: c + ".run/scores.csv", encoding: .utf8)) ?? ""
        #expect(mergeFile.isEmpty)  // the merging call measured nothing again

        // The score matrix as CSV, for ablations over subsets of K and R.
        let csv = try BoundaryConditionSearch.scoreMatrixCSV(a, references: 3).split(separator: "\n")
        #expect(csv.first == "candidate,ref_0,ref_1,ref_2" && csv.count == 6)
    }

    @Test func theWinnersScoreFollowsFromTheArtifactAlone() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let refs = try referenceFolder(dir)
        let out = dir.appendingPathComponent("x.safetensors").path
        let result = try search(refs).run(out: out)!

        let archive = try Safetensors.read(out)
        let m = archive.metadata
        #expect(m["K"] == "5" && m["R"] == "3" && m["metric"] == "l1" && m["lower_is_better"] == "true" && m["solver"] == "ddim:2")
        #expect(m["winner"] == "\(result.winner)" && m["model_sha256"] == "test" && m["size"] == "16")
        let xT = archive["x_T"]!.floatTensor()
        #expect(xT.shape == [1, 3, 16, 16])
        // Rebuild the references from their sources and boxes, score x_T, compare with the stored mean.
        let listed = try JSONSerialization.jsonObject(with: Data(m["references"]!.utf8)) as! [[String: Any]]
        let references = try listed.map { entry -> ReferencePatch in
            let box = entry["box"] as! [Int], source = entry["source"] as! String
            let hr = try PNG.read("\(refs)/\(source)").slice(start: [0, box[1], box[0]], size: [3, box[3], box[2]])
            return ReferencePatch(source: source, box: box, hr: hr, lr: ColorSpace.quantized8(MatlabResize.resize(hr, scale: 0.25)))
        }
        var s = try search(refs)
        s.references = references
        let rescored = try s.scores(of: xT)
        let stored = try JSONSerialization.jsonObject(with: Data(m["scores"]!.utf8)) as! [Double]
        #expect(abs(rescored.reduce(0, +) / 3 - stored[result.winner]) < 1e-12)
        #expect(stored.allSatisfy { stored[result.winner] <= $0 })
    }

    @Test func stochasticSolversAndChangedSettingsAreRefused() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let refs = try referenceFolder(dir)
        #expect { try search(refs, solver: "ancestral") } throws: { "\($0)".contains("stochastic") }
        let out = dir.appendingPathComponent("y.safetensors").path
        _ = try search(refs).run(out: out, shard: (0, 5))
        #expect { try search(refs, seed: 4).run(out: out) } throws: { "\($0)".contains("holds a search with other settings") }
    }
}
