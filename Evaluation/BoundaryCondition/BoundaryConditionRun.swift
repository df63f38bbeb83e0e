// The run folder of a search (`<out>.run/`): the score matrix so far, one file per shard
// (`scores.csv` without sharding, `scores-<i>-of-<N>.csv` with), each line
// `k,s_1,…,s_R`. Lines cut by an interruption are ignored and measured again. The final
// call (no shard) merges every file, measures what is missing and writes the artifact.
import AtomicFile
import Checkpoints
import Foundation
import Grad

public struct BoundaryConditionResult: Sendable {
    /// scores[k][i]: candidate k's metric on reference i.
    public var scores: [[Double]]
    public var winner: Int
    public var winnerMean: Double
    /// K·R·(evaluations per solve); nil for an adaptive solver.
    public var evaluations: Int?
}

extension BoundaryConditionSearch {
    /// Runs candidates `k` with `k % shard.count == shard.index` (all without a shard) that the
    /// run folder does not hold yet. Without a shard, also picks the winner and writes the
    /// artifact to `out`. `progress(done, total)` after each candidate.
    public func run(out: String, shard: (index: Int, count: Int)? = nil,
                    progress: (Int, Int) throws -> Void = { _, _ in }) throws -> BoundaryConditionResult? {
        let folder = out + ".run"
        try Folders.create(folder)
        try checkRunSettings(folder)
        var known = try Self.loadScores(folder, references: references.count)
        let mine = (0..<candidates).filter { k in shard.map { k % $0.count == $0.index } ?? true }
        let file = (folder as NSString).appendingPathComponent(shard.map { "scores-\($0.index)-of-\($0.count).csv" } ?? "scores.csv")
        let handle = try Self.openAppending(file)
        defer { try? handle.close() }
        var done = mine.filter { known[$0] != nil }.count
        try progress(done, mine.count)
        for k in mine where known[k] == nil {
            let s = try scores(of: candidate(k))
            try handle.write(contentsOf: Data((([String(k)] + s.map { "\($0)" }).joined(separator: ",") + "\n").utf8))
            try handle.synchronize()
            known[k] = s
            done += 1
            try progress(done, mine.count)
        }
        guard shard == nil else { return nil }
        let matrix = (0..<candidates).map { known[$0]! }
        let means = matrix.map { $0.reduce(0, +) / Double($0.count) }
        // The best mean; ties go to the lowest index.
        var winner = 0
        for k in 1..<candidates where metric.lowerIsBetter ? means[k] < means[winner] : means[k] > means[winner] { winner = k }
        let result = BoundaryConditionResult(scores: matrix, winner: winner, winnerMean: means[winner],
                                             evaluations: evaluationsPerSolve.map { candidates * references.count * $0 })
        try writeArtifact(out, result: result, means: means)
        return result
    }

    /// The settings a run folder was started with must not change (the scores would mix).
    func checkRunSettings(_ folder: String) throws {
        let text = "model_sha256=\(modelSHA256)\nsolver=\(solverText)\nmetric=\(metric.rawValue)\nsize=\(size)\nseed=\(seed)\n"
            + "references=\(referenceList)\n"
        let path = (folder as NSString).appendingPathComponent("settings.txt")
        if let earlier = try? String(contentsOfFile: path, encoding: .utf8) {
            guard earlier == text else {
                throw EvaluationInputError("\(folder) holds a search with other settings (model, solver, metric, size, seed or references); "
                    + "use another --out or delete the folder")
            }
        } else {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    /// The references as JSON: `[{"source": …, "box": [x, y, w, h]}, …]`.
    var referenceList: String {
        let list = references.map { ["source": $0.source, "box": $0.box] as [String: Any] }
        return String(decoding: try! JSONSerialization.data(withJSONObject: list, options: [.sortedKeys]), as: UTF8.self)
    }

    static func loadScores(_ folder: String, references: Int) throws -> [Int: [Double]] {
        var known: [Int: [Double]] = [:]
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in files where name.hasPrefix("scores") && name.hasSuffix(".csv") {
            let text = (try? String(contentsOfFile: (folder as NSString).appendingPathComponent(name), encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: ",")
                guard fields.count == references + 1, let k = Int(fields[0]) else { continue }
                let values = fields.dropFirst().compactMap { Double($0) }
                if values.count == references { known[k] = values }
            }
        }
        return known
    }

    /// Opens for appending, first dropping a last line cut short by an interruption.
    static func openAppending(_ path: String) throws -> FileHandle {
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            if !text.isEmpty, !text.hasSuffix("\n") {
                let keep = text.lastIndex(of: "\n").map { String(text[...$0]) } ?? ""
                try keep.write(toFile: path, atomically: true, encoding: .utf8)
            }
        } else {
            FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw EvaluationInputError("\(path): cannot open for writing") }
        try handle.seekToEnd()
        return handle
    }

    /// The artifact: x̃_T `[1, 3, size, size]` as safetensors, with everything needed to
    /// know what it is for and to recompute the winner's score.
    func writeArtifact(_ path: String, result: BoundaryConditionResult, means: [Double]) throws {
        let scoresJSON = String(decoding: try JSONSerialization.data(withJSONObject: means), as: UTF8.self)
        let metadata: [String: String] = [
            "K": "\(candidates)", "R": "\(references.count)", "metric": metric.rawValue,
            "lower_is_better": "\(metric.lowerIsBetter)", "solver": solverText, "size": "\(size)", "seed": "\(seed)",
            "winner": "\(result.winner)", "scores": scoresJSON, "model_sha256": modelSHA256, "references": referenceList,
            "scale": "\(scale)", "network_evaluations": result.evaluations.map(String.init) ?? "adaptive (rk45)",
            "lpips_net": lpips?.network.rawValue ?? "",
        ]
        try Safetensors.write(TensorArchive(tensors: [("x_T", RawTensor(candidate(result.winner)))], metadata: metadata), to: path)
    }

    /// The complete score matrix of a finished search (`scores[k][i]`); an error names the
    /// first candidate that is missing.
    public static func scoreMatrix(_ out: String, candidates: Int, references: Int) throws -> [[Double]] {
        let known = try loadScores(out + ".run", references: references)
        return try (0..<candidates).map { k in
            guard let row = known[k] else { throw EvaluationInputError("\(out).run holds no scores of candidate \(k); finish the search first") }
            return row
        }
    }

    /// The score matrix of a run folder as CSV (`candidate,ref_0,…`), for the paper's
    /// ablations over subsets of K and R.
    public static func scoreMatrixCSV(_ out: String, references: Int) throws -> String {
        let known = try loadScores(out + ".run", references: references)
        let header = (["candidate"] + (0..<references).map { "ref_\($0)" }).joined(separator: ",")
        return ([header] + known.keys.sorted().map { k in ([String(k)] + known[k]!.map { "\($0)" }).joined(separator: ",") })
            .joined(separator: "\n") + "\n"
    }
}
