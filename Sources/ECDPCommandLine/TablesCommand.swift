// `ecdp tables`: reproduce the papers' result tables (Reproduction's TableRunner does the
// work; this file parses, draws progress and prints). See docs/results.md.
import ArgumentParser
import Foundation
import Reproduction

struct Tables: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reproduce the papers' result tables: train, search and evaluate what each needs, cached and resumable.",
        discussion: """
        A table is a spec in Evaluation/tables/<name>.yaml: the steps it needs at each scale (train, fine-tune, patches,
        find-bc, eval), how its rows are filled, and the paper's numbers beside them. Every step is cached under
        --out by a hash of its inputs (config, parent, data), so a second run reuses finished steps, an interrupted
        one resumes (Ctrl-C saves and stops; run the same command again), and two tables that need the same model train
        it once. Writes OUT/tables/<name>.md, .csv, .json (and .svg for figures). See docs/results.md.
        """)

    @Argument(help: "Table names (see --list), `all`, or spec paths.") var names: [String] = []
    @Flag(help: "List the tables and stop.") var list = false
    @Option(help: "cpu (small models on the demo photographs) or paper (the papers' recipes; needs --data).") var scale = "cpu"
    @Option(help: "Folder holding the data sets a paper-scale table needs (it says which when missing).") var data: String?
    @Option(help: "Output folder (steps/, tables/, cache/).") var out = "tables-out"
    @Flag(help: "Print the plan with each step's estimated CPU time and stop.") var dryRun = false
    @Flag(help: "Write the tables from the steps finished so far (unfinished rows read \"pending\") without running any.")
    var renderOnly = false
    @Option(help: "With --dry-run: also estimate the time split over N processes.") var processes = 1
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        if !list, names.isEmpty { throw ValidationError("name a table (ecdp tables --list), or `all`") }
        guard ["cpu", "paper"].contains(scale) else { throw ValidationError("--scale \(scale): cpu or paper") }
        guard processes >= 1 else { throw ValidationError("--processes must be at least 1") }
    }

    func run() throws {
        if list {
            for name in TableSpec.names() {
                let spec = try TableSpec.load(TableSpec.path(of: name))
                print("\(name): \(spec.title) [\(spec.scales.keys.sorted().joined(separator: ", "))] — \(spec.source)")
            }
            return
        }
        threadOptions.apply()
        let chosen = names == ["all"] ? TableSpec.names() : names
        let runner: TableRunner
        do {
            // Rendering needs no estimates: no model is timed for it.
            runner = try TableRunner(names: chosen, scale: scale, data: data, out: out, dryRun: dryRun, estimateCosts: !renderOnly)
        } catch let e as TableSpecError {
            throw InputError(e.message)
        }
        if dryRun {
            print(runner.planText(processes: processes))
            return
        }
        if renderOnly {
            for path in try runner.render() where path.hasSuffix(".md") { print("wrote \(path)") }
            return
        }
        print(runner.planText())
        fflush(nil)
        let interrupt = InterruptFlag()
        let observer = TableProgressPrinter()
        do {
            let written = try runner.run(observer: observer, shouldStop: { interrupt.isRaised })
            for path in written where path.hasSuffix(".md") { print("wrote \(path)") }
        } catch is TableRunInterrupted {
            _ = try? runner.render()
            print("stopped; finished steps are kept. Continue with the same command.")
            throw interrupt.exitCode
        }
    }
}

/// Progress of a table run: one line per step, a bar inside it.
final class TableProgressPrinter: TableRunObserver {
    private var bar: ProgressBar?
    private var label = ""

    func stepStarted(_ step: PlannedStep, index: Int, count: Int, remaining: Double) {
        bar = nil
        label = "\(index)/\(count) \(step.spec.kind.rawValue)"
        print("step \(index) of \(count): \(step.id) (\(step.names.joined(separator: ", "))): \(step.summary) — "
              + "est. \(ProgressBar.clock(step.estimatedSeconds)), plan ETA \(ProgressBar.clock(remaining))")
        fflush(nil)
    }

    func stepProgress(done: Int, total: Int, fields: [(String, String)]) {
        if bar == nil { bar = ProgressBar(total: total, label: label, start: done) }
        bar!.update(done, fields: fields)
    }

    func note(_ text: String) {
        (bar ?? ProgressBar(total: 1, label: label)).note(text)
    }

    func stepFinished(_ step: PlannedStep, seconds: Double) {
        print("  done in \(ProgressBar.clock(seconds)): \(step.folder)")
        fflush(nil)
    }
}
