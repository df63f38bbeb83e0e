// The table orchestration end to end on a miniature spec (`tiny`, 2 training steps, 32²
// patches, 2-step DDIM): every step runs once, a second run does no work and writes the same
// tables, an interrupted run (inside training, and between steps) resumes to the same tables.
import Evaluation
import Foundation
import Reproduction
import Testing
import TestSupport

/// Counts what a run did.
final class RecordingObserver: TableRunObserver {
    var started: [String] = []
    var finished: [String] = []
    var progressEvents: [(kind: String, done: Int)] = []
    private var current = ""

    func stepStarted(_ step: PlannedStep, index: Int, count: Int, remaining: Double) {
        started.append(step.id)
        current = step.spec.kind.rawValue
    }
    func stepProgress(done: Int, total: Int, fields: [(String, String)]) { progressEvents.append((current, done)) }
    func note(_ text: String) {}
    func stepFinished(_ step: PlannedStep, seconds: Double) { finished.append(step.id) }
}

/// A folder holding `Evaluation/tables/mini.yaml`: a metrics table (a trained model, x̃_T and
/// random x_T on patches) and an ablation table over two small searches.
func miniatureRoot() throws -> String {
    let root = try FixturePaths.temporaryDirectory().path
    let tables = (root as NSString).appendingPathComponent("Evaluation/tables")
    try FileManager.default.createDirectory(atPath: tables, withIntermediateDirectories: true)
    let tiny = FixturePaths.path("Training/configs/tiny.yaml")
    let train = FixturePaths.path("Training/data/demo/train"), test = FixturePaths.path("Training/data/demo/test")
    let steps = """
        steps:
          model: {train: \(tiny), steps: 2, seed: 3, set: [data.train=\(train), data.validation=\(test), schedule.validate_every=0,
                  schedule.sample_every=0, schedule.checkpoint_every=1, schedule.log_every=1]}
          patches: {patches: \(test), size: 32, count: 2, seed: 1}
          search: {search: "@model", reference: \(train), solver: "ddim:2", K: 4, R: 2, size: 32, metric: psnr, seed: 0}
          test-scores: {search: "@model", reference: "@patches", all_references: true, solver: "ddim:2", K: 4, size: 32, metric: psnr, seed: 0}
          eval-random: {eval: "@model", hr: "@patches", protocol: ecdp, solvers: ["ddim:2", bicubic], seeds: [0, 1]}
          eval-xT: {eval: "@model", hr: "@patches", protocol: ecdp, solvers: ["ddim:2"], x_T: "@search"}
    """
    // The scale both specs share: its description and its steps.
    let scale = """
    scales:
      cpu:
        note: test scale
        data: 2 patches
        protocol: ecdp
    \(steps)
    """
    try """
    name: mini
    title: a miniature table
    source: none (a test)
    kind: metrics
    columns: [psnr, ssim, lr_psnr, lpips, nfe]
    \(scale)
        rows:
          - {id: random, label: "DDIM-2, random x_T", eval: "@eval-random", solver: "ddim:2", paper: {psnr: 28.5}}
          - {id: xT, label: "DDIM-2, x̃_T", eval: "@eval-xT", solver: "ddim:2"}
          - {id: bicubic, label: bicubic, eval: "@eval-random", solver: bicubic}
        checks:
          - {claim: "x̃_T beats random", metric: psnr, order: [xT, random]}
          - {claim: "x̃_T beats random in LPIPS", metric: lpips, order: [xT, random]}
    """.write(toFile: (tables as NSString).appendingPathComponent("mini.yaml"), atomically: true, encoding: .utf8)
    try """
    name: mini-ablation
    title: a miniature ablation
    source: none (a test)
    kind: bc-ablation
    \(scale)
        ablation: {search: "@search", test: "@test-scores", R: [1, 2], K_for_R: 4, K: [2, 4], R_for_K: 2, draws: 3, seed: 0}
    """.write(toFile: (tables as NSString).appendingPathComponent("mini-ablation.yaml"), atomically: true, encoding: .utf8)
    return root
}

func tableFiles(_ out: String) throws -> [String: String] {
    let folder = (out as NSString).appendingPathComponent("tables")
    var files: [String: String] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".csv") || name.hasSuffix(".svg") {
        files[name] = try String(contentsOfFile: (folder as NSString).appendingPathComponent(name), encoding: .utf8)
    }
    return files
}

@Suite(.serialized) struct TableRunnerTests {
    @Test func aSecondRunDoesNoWorkAndAnInterruptedRunResumesToTheSameTables() throws {
        let root = try miniatureRoot()
        let names = ["mini", "mini-ablation"]

        // Uninterrupted: every step once; the two tables share their steps.
        let full = (root as NSString).appendingPathComponent("full")
        let first = try TableRunner(names: names, scale: "cpu", data: nil, out: full, root: root)
        #expect(first.plan.steps.count == 6)
        #expect(first.pendingSteps.count == 6)
        let observer = RecordingObserver()
        let written = try first.run(observer: observer)
        #expect(observer.started.count == 6 && observer.finished.count == 6)
        #expect(written.contains { $0.hasSuffix("mini.md") } && written.contains { $0.hasSuffix("mini-ablation.svg") })
        let tables = try tableFiles(full)
        let csv = try #require(tables["mini.csv"])
        #expect(!csv.contains("pending"))
        let markdown = try String(contentsOfFile: (full as NSString).appendingPathComponent("tables/mini.md"), encoding: .utf8)
        #expect(markdown.contains("Scale: **cpu**") && markdown.contains("Protocol: ecdp") && markdown.contains("x̃_T beats random"))
        #expect(markdown.contains("| 28.5 |"))  // the paper's number beside ours, at its own precision
        // LPIPS is not computed without pretrained weights: finished steps do not make it pending.
        #expect(markdown.contains("x̃_T beats random in LPIPS: cannot be checked at this scale — lpips of DDIM-2, x̃_T is not computed"))

        // A second run: nothing pending, no step started, the same tables.
        let second = try TableRunner(names: names, scale: "cpu", data: nil, out: full, root: root)
        #expect(second.pendingSteps.isEmpty)
        let idle = RecordingObserver()
        _ = try second.run(observer: idle)
        #expect(idle.started.isEmpty)
        #expect(try tableFiles(full) == tables)

        // Interrupted inside the training step, then between steps; each rerun continues.
        let resumed = (root as NSString).appendingPathComponent("resumed")
        let stopInTraining = RecordingObserver()
        #expect(throws: TableRunInterrupted.self) {
            _ = try TableRunner(names: names, scale: "cpu", data: nil, out: resumed, root: root)
                .run(observer: stopInTraining, shouldStop: { stopInTraining.progressEvents.contains { $0.kind == "train" && $0.done >= 1 } })
        }
        #expect(stopInTraining.finished.isEmpty)
        // The interrupted step kept the time it ran (`elapsed.json`), for its final record.
        let trainStep = try #require(try TableRunner(names: names, scale: "cpu", data: nil, out: resumed, root: root)
            .plan.steps.first { $0.spec.kind.rawValue == "train" })
        struct Elapsed: Decodable { var seconds: Double }
        let elapsedPath = (trainStep.folder as NSString).appendingPathComponent("elapsed.json")
        let interrupted = try JSONDecoder().decode(Elapsed.self, from: try #require(FileManager.default.contents(atPath: elapsedPath)))
        #expect(interrupted.seconds > 0)
        let stopAfterTwo = RecordingObserver()
        #expect(throws: TableRunInterrupted.self) {
            _ = try TableRunner(names: names, scale: "cpu", data: nil, out: resumed, root: root)
                .run(observer: stopAfterTwo, shouldStop: { stopAfterTwo.finished.count >= 2 })
        }
        #expect(stopAfterTwo.progressEvents.first { $0.kind == "train" }?.done ?? 0 >= 1)  // training resumed past step 0
        let rest = try TableRunner(names: names, scale: "cpu", data: nil, out: resumed, root: root)
        #expect(rest.pendingSteps.count == 4)
        let last = RecordingObserver()
        _ = try rest.run(observer: last)
        #expect(last.started.count == 4)
        #expect(try tableFiles(resumed) == tables)
        // The finished training step counts its interrupted run too.
        let done = try JSONDecoder().decode(Elapsed.self, from: try #require(FileManager.default.contents(atPath: trainStep.donePath)))
        #expect(done.seconds > interrupted.seconds)
    }

    @Test func dryRunPlansWithoutRunningAndNamesEachStep() throws {
        let root = try miniatureRoot()
        let out = (root as NSString).appendingPathComponent("dry")
        let runner = try TableRunner(names: ["mini"], scale: "cpu", data: nil, out: out, root: root)
        let text = runner.planText(processes: 4)
        #expect(text.contains("5 steps, 5 to run"))  // the metrics table does not read test-scores
        #expect(text.contains("train ") && text.contains("find-bc @model ddim:2 K 4 R 2") && text.contains("with 4 processes"))
        #expect(!FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent("steps")))
        // A scale the spec lacks, and --data that a paper-scale spec would need, are errors that say so.
        #expect(throws: TableSpecError.self) { _ = try TableRunner(names: ["mini"], scale: "paper", data: nil, out: out, root: root) }
    }

    @Test func renderingBeforeAnyStepRunsMarksRowsPending() throws {
        let root = try miniatureRoot()
        let out = (root as NSString).appendingPathComponent("pending")
        _ = try TableRunner(names: ["mini", "mini-ablation"], scale: "cpu", data: nil, out: out, root: root).render()
        let csv = try #require(try tableFiles(out)["mini.csv"])
        #expect(csv.contains("pending"))
        let md = try String(contentsOfFile: (out as NSString).appendingPathComponent("tables/mini.md"), encoding: .utf8)
        #expect(md.contains("cannot be checked yet"))
        #expect(!md.contains("cannot be checked at this scale"))
    }
}
