// `ecdp tables`: plan the steps a set of tables needs, run the ones not finished (in
// dependency order, each resumable), and write every table as markdown, CSV, JSON (and SVG
// for figures) under `OUT/tables/`. See docs/results.md.
import Evaluation
import Foundation
import GradKernels
import Yams

public final class TableRunner {
    public let plan: TablePlan
    public let out: String
    let costs = CostModel()

    /// - Parameters: `names` table names (or spec paths); `root` the folder holding
    ///   `Evaluation/tables/`.
    /// With `dryRun`, a scale that needs `--data` plans without it (what is missing is listed).
    /// Without `estimateCosts` no model is timed and every estimate is 0.
    public init(names: [String], scale: String, data: String?, out: String, root: String = TableSpec.defaultRoot, dryRun: Bool = false,
                estimateCosts: Bool = true) throws {
        guard ["cpu", "paper"].contains(scale) else { throw TableSpecError("--scale \(scale): cpu or paper") }
        let specs = try names.map { try TableSpec.load(TableSpec.path(of: $0, root: root)) }
        let common = try Self.commonSteps(root: root)
        self.out = out
        let planner = Planner(scaleName: scale, data: data, allowMissingData: dryRun, out: out,
                              digests: FileDigests(cacheFolder: (out as NSString).appendingPathComponent("cache"), allowMissingData: dryRun),
                              common: common)
        var plan = try planner.plan(specs)
        for i in plan.steps.indices where estimateCosts {
            let estimate = costs.estimate(plan.steps[i], plan: plan.steps)
            plan.steps[i].estimatedSeconds = estimate ?? 0
            plan.steps[i].estimateUnknown = estimate == nil
        }
        self.plan = plan
    }

    /// `Evaluation/tables/common.yaml`: steps every table may name, by scale.
    static func commonSteps(root: String) throws -> [String: [String: StepSpec]] {
        struct Common: Decodable { var scales: [String: [String: [String: StepSpec]]] }
        let path = (root as NSString).appendingPathComponent("Evaluation/tables/common.yaml")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        do {
            return try YAMLDecoder().decode(Common.self, from: text).scales.mapValues { $0["steps"] ?? [:] }
        } catch {
            throw TableSpecError("\(path): \(error)")
        }
    }

    public var pendingSteps: [PlannedStep] { plan.steps.filter { !$0.isDone } }

    /// The plan as text: every step, done or with its estimated time, and the total.
    public func planText(processes: Int = 1) -> String {
        var lines = ["plan at scale \(plan.scaleName) for \(plan.tables.map(\.spec.name).joined(separator: ", ")): "
                     + "\(plan.steps.count) steps, \(pendingSteps.count) to run; outputs in \(out)"]
        for (i, s) in plan.steps.enumerated() {
            let status = s.spec.kind == .model ? "given"
                : (s.isDone ? "done" : (s.estimateUnknown ? "est. unknown without the data" : "est. \(ResultTable.duration(s.estimatedSeconds))"))
            lines.append(String(format: "%3d. ", i + 1) + "[\(status)] \(s.id) (\(s.names.joined(separator: ", "))): \(s.summary)")
        }
        let total = pendingSteps.map(\.estimatedSeconds).reduce(0, +)
        let unknown = pendingSteps.filter(\.estimateUnknown).count
        lines.append("estimated CPU time on this machine (\(Parallel.maxThreads) threads): \(ResultTable.duration(total))"
            + (unknown > 0 ? " plus \(unknown) steps that need the data to estimate" : ""))
        if processes > 1 {
            lines.append("with \(processes) processes, split ideally (no communication cost; data-parallel MPI training is not built yet): "
                + ResultTable.duration(total / Double(processes)))
        }
        lines.append("estimates: one network evaluation per architecture timed at 64² here, scaled by pixels and evaluations; "
            + "a training step = 3 evaluations of its batch; rk45 assumed \(Int(CostModel.assumedAdaptiveEvaluations)) evaluations per solve")
        if !plan.missingData.isEmpty {
            lines.append("without --data: a run needs --data DIR holding")
            lines += plan.missingData.map { "  \($0)" }
        }
        return lines.joined(separator: "\n")
    }

    /// Runs every pending step, then writes the tables. Throws `TableRunInterrupted` when
    /// `shouldStop` turned true (finished steps and partial progress are kept).
    public func run(observer: TableRunObserver, shouldStop: @escaping () -> Bool = { false }) throws -> [String] {
        let executor = StepExecutor(plan: plan, observer: observer, shouldStop: shouldStop)
        let pending = pendingSteps.filter { $0.spec.kind != .model }
        var remaining = pending.map(\.estimatedSeconds).reduce(0, +)
        for (i, step) in pending.enumerated() {
            observer.stepStarted(step, index: i + 1, count: pending.count, remaining: remaining)
            try executor.run(step)
            remaining -= step.estimatedSeconds
            if shouldStop() { throw TableRunInterrupted() }
        }
        return try render()
    }

    /// Writes every table from the steps finished so far (unfinished rows read "pending").
    public func render() throws -> [String] {
        let assembler = TableAssembler(plan: plan, machine: machineDescription)
        var written: [String] = []
        let folder = (out as NSString).appendingPathComponent("tables")
        for table in plan.tables {
            let result = try assembler.assemble(table)
            let base = (folder as NSString).appendingPathComponent(table.spec.name)
            try OutputFile.write(result.markdown, to: base + ".md")
            try OutputFile.write(result.csv, to: base + ".csv")
            try OutputFile.write(result.json, to: base + ".json")
            written += [base + ".md", base + ".csv", base + ".json"]
            if let svg = result.svg {
                try OutputFile.write(svg, to: base + ".svg")
                written.append(base + ".svg")
            }
        }
        return written
    }

    var machineDescription: String {
        let m = MachineDescription.current(threads: Parallel.maxThreads)
        return "\(m.cpu), \(m.threads) threads"
    }
}
