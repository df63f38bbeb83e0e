// Table specs are decoded strictly, and every committed spec plans at both scales.
import Evaluation
import Foundation
import Reproduction
import Testing
import TestSupport

struct TableSpecTests {
    func write(_ text: String) throws -> String {
        let path = try FixturePaths.temporaryDirectory().appendingPathComponent("spec.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    let header = "name: t\ntitle: t\nsource: s\nkind: metrics\nscales:\n  cpu:\n    note: n\n    data: d\n    protocol: p\n"

    @Test func anUnknownKeyIsAnErrorThatNamesItAndItsPlace() throws {
        let path = try write(header + "    steps:\n      a: {eval: \"@m\", solvrs: [\"ddim:2\"]}\n")
        #expect {
            _ = try TableSpec.load(path)
        } throws: { error in
            let message = "\(error)"
            return message.contains("unknown key 'solvrs'") && message.contains("scales.cpu.steps.a") && message.contains("solvers")
        }
    }

    @Test func aStepNeedsExactlyOneKind() throws {
        let path = try write(header + "    steps:\n      a: {train: tiny, eval: \"@m\"}\n")
        #expect {
            _ = try TableSpec.load(path)
        } throws: { "\($0)".contains("exactly one of model, train, finetune, patches, search, eval (found train, eval)") }
    }

    @Test func aRowNamingAStepThatDoesNotExistIsAnError() throws {
        let root = try FixturePaths.temporaryDirectory().path
        try FileManager.default.createDirectory(atPath: root + "/Evaluation/tables", withIntermediateDirectories: true)
        try (header + "    rows:\n      - {id: a, label: a, eval: \"@nowhere\"}\n")
            .write(toFile: root + "/Evaluation/tables/t.yaml", atomically: true, encoding: .utf8)
        #expect {
            _ = try TableRunner(names: ["t"], scale: "cpu", data: nil, out: root + "/out", root: root)
        } throws: { "\($0)".contains("no step named 'nowhere'") }
    }

    /// Every committed spec (with common.yaml) plans at both scales; at the paper scale a run
    /// without --data stops by listing what to download and how to prepare it, and a dry
    /// run plans anyway and lists the same.
    @Test func everyCommittedSpecPlansAtBothScales() throws {
        let root = FixturePaths.repositoryRoot.path
        let names = TableSpec.names(root: root)
        #expect(Set(names) == ["ecdp-table1", "ecdp-table3", "ecdp-table5", "ecdp-table6", "bc-table1", "bc-fig3", "bc-table6"])
        let out = try FixturePaths.temporaryDirectory().path
        for name in names {
            let spec = try TableSpec.load(TableSpec.path(of: name, root: root))
            #expect(spec.scales.keys.sorted() == ["cpu", "paper"], "\(name)")
            if spec.kind == .architectures { continue }
            #expect {
                _ = try TableRunner(names: [name], scale: "paper", data: nil, out: out, root: root)
            } throws: { "\($0)".contains("needs --data DIR holding") && "\($0)".contains("DIV2K_valid_HR") }
            let dry = try TableRunner(names: [name], scale: "paper", data: nil, out: out, root: root, dryRun: true, estimateCosts: false)
            #expect(dry.plan.missingData.contains { $0.hasPrefix("$DATA/DIV2K_valid_HR: ") }, "\(name)")
            _ = try TableRunner(names: [name], scale: "cpu", data: nil, out: out, root: root, dryRun: true, estimateCosts: false)
        }
    }

    @Test func ablationSubsetsPickTheirWinnerOnTheSearchAndScoreItOnTheTest() throws {
        // Mean scores over all references: candidate 0 lowest (2/3), candidate 2 highest (19/3).
        let search: [[Double]] = [[1, 1, 0], [2, 2, 1], [5, 5, 9]]
        let test: [[Double]] = [[10, 10], [20, 20], [30, 30]]
        let all = try BoundaryConditionAblation.subsetWinners(search: search, test: test, lowerIsBetter: false,
                                                              settings: [(candidates: 3, references: 3)], draws: 4, seed: 0)
        #expect(all[0].draws == [30, 30, 30, 30])  // every subset is the whole matrix: candidate 2 wins
        #expect(all[0].gainOverRandom == 10)        // random x_T: the mean of 10, 20, 30
        #expect(all[0].standardDeviation == 0)
        let lower = try BoundaryConditionAblation.subsetWinners(search: search, test: test, lowerIsBetter: true,
                                                                settings: [(candidates: 3, references: 3)], draws: 1, seed: 0)
        #expect(lower[0].draws == [10])            // lowest mean: candidate 0
        #expect(throws: EvaluationInputError.self) {
            _ = try BoundaryConditionAblation.subsetWinners(search: search, test: test, lowerIsBetter: false,
                                                            settings: [(candidates: 4, references: 1)], draws: 1, seed: 0)
        }
    }

    @Test func referenceCorrelationsArePearsonAndSpearmanOverCandidates() {
        // Reference 1 = 2 × reference 0 (r = ρ = 1); reference 2 reverses the order (ρ = −1).
        let m: [[Double]] = [[1, 2, 9], [2, 4, 5], [4, 8, 1]]
        let c = BoundaryConditionAblation.referenceCorrelations(m)
        #expect(c.count == 3)
        #expect(abs(c[0].pearson - 1) < 1e-12 && abs(c[0].spearman - 1) < 1e-12)
        #expect(abs(c[1].spearman + 1) < 1e-12 && c[1].pearson < -0.9)
    }
}
