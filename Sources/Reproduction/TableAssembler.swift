// Filling a table from the outputs of its finished steps: evaluation summaries (metrics
// tables), configs (architectures), score matrices (the BC ablation and correlation). Rows
// whose steps have not finished are "pending"; the orderings a spec names are checked on the
// numbers that exist.
import ECDP
import Evaluation
import Foundation
import Training

struct TableAssembler {
    let plan: TablePlan
    let machine: String

    static let columnFormats: [String: (header: String, digits: Int, paper: Bool)] = [
        "psnr": ("PSNR (dB)", 2, true), "ssim": ("SSIM", 4, true), "lr_psnr": ("LR-PSNR (dB)", 2, true),
        "lpips": ("LPIPS", 4, true), "nfe": ("NFE", 0, false), "seconds_per_image": ("s / image", 2, true),
        "params": ("parameters", 0, true), "params_unet": ("U-Net", 0, false), "params_rrdb": ("RRDB encoder", 0, false),
        "channels": ("U-Net channels", 0, false), "blocks": ("blocks / stage", 0, false), "rrdb": ("RRDB nf/gc/N, selection", 0, false),
        "hr_crop": ("HR crop", 0, false), "batch": ("batch", 0, false),
    ]

    func assemble(_ table: TablePlan.Table) throws -> ResultTable {
        let spec = table.spec, scale = table.scale
        var result = ResultTable(
            name: spec.name, title: spec.title, source: spec.source, scale: plan.scaleName, scaleNote: scale.note, data: scale.data,
            protocolText: scale.protocolText, machine: machine, wallSeconds: wallSeconds(table),
            columns: spec.columns.map { key in
                let f = Self.columnFormats[key] ?? (key, 4, true)
                return ResultTable.Column(key: key, header: f.header, digits: f.digits, hasPaperColumn: f.paper)
            }, rows: [])
        switch spec.kind {
        case .metrics: result.rows = try scale.rows.map { try metricsRow($0, table) }
        case .architectures: result.rows = try scale.rows.map(architectureRow)
        case .bcAblation: try fillAblation(&result, table)
        case .bcCorrelation: try fillCorrelation(&result, table)
        }
        result.checks = scale.checks.map { check(result.rows, $0) }
        return result
    }

    /// Seconds of every finished step the table reads, directly or through its dependencies.
    func wallSeconds(_ table: TablePlan.Table) -> Double {
        var seen: Set<String> = []
        var stack = Array(table.stepIDs.values)
        var total = 0.0
        while let id = stack.popLast() {
            guard seen.insert(id).inserted, let step = plan.step(id) else { continue }
            stack += step.dependencies
            if let data = FileManager.default.contents(atPath: step.donePath),
               let record = try? JSONDecoder().decode(StepRecord.self, from: data) { total += record.seconds }
        }
        return total
    }

    func metricsRow(_ row: RowSpec, _ table: TablePlan.Table) throws -> ResultTable.Row {
        var out = ResultTable.Row(id: row.id, label: row.label, cells: [:], paper: row.paper, note: row.note)
        guard let reference = row.eval else { throw TableSpecError("\(table.spec.name): row \(row.id) needs 'eval'") }
        let step = try plan.step(named: reference, in: table)
        let summaryPath = (step.evalFolder as NSString).appendingPathComponent("summary.json")
        guard Planner.isDone(step), let data = FileManager.default.contents(atPath: summaryPath),
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any], let rows = object["rows"] as? [[String: Any]] else {
            for c in table.spec.columns { out.cells[c] = .pending }
            return out
        }
        let matching = rows.filter { r in
            (row.solver.map { ($0 == (r["solver"] as? String)) } ?? true)
                && (row.temperature.map { $0 == (r["temperature"] as? Double) } ?? true)
        }
        guard matching.count == 1, let r = matching.first else {
            throw TableSpecError("\(table.spec.name): row \(row.id) matches \(matching.count) rows of \(summaryPath) "
                + "(give 'solver' and 'temperature' to pick one)")
        }
        for c in table.spec.columns {
            switch c {
            case "psnr", "ssim", "lr_psnr", "lpips":
                let mean = r["\(c)_mean"] as? Double
                out.cells[c] = mean.map { .number($0, spread: r["\(c)_std_images"] as? Double) } ?? .missing
            case "nfe": out.cells[c] = (r["nfe"] as? Double).map { .number($0, spread: nil) } ?? .missing
            case "seconds_per_image": out.cells[c] = (r["seconds_per_image"] as? Double).map { .number($0, spread: nil) } ?? .missing
            case "params": out.cells[c] = (r["params"] as? Double).map { .number($0, spread: nil) } ?? .missing
            default: throw TableSpecError("\(table.spec.name): column \(c) is not one an evaluation gives")
            }
        }
        return out
    }

    func architectureRow(_ row: RowSpec) throws -> ResultTable.Row {
        guard let name = row.config else { throw TableSpecError("row \(row.id) needs 'config'") }
        let config: TrainingConfig
        do { config = try TrainingConfig.resolve(name) } catch { throw TableSpecError("row \(row.id): \(error)") }
        let model = config.makeModel(seed: 0)
        let m = config.model
        let cells: [String: ResultTable.Cell] = [
            "channels": .text("[" + m.channels.map(String.init).joined(separator: ", ") + "]"),
            "blocks": .text("[" + m.blocks.map(String.init).joined(separator: ", ") + "]"),
            "rrdb": .text("\(m.rrdbFeatures)/\(m.rrdbGrowth)/\(m.rrdbBlocks), [" + m.rrdbSelection.map(String.init).joined(separator: ", ") + "]"),
            "hr_crop": .number(Double(config.data.hrCrop), spread: nil), "batch": .number(Double(config.data.batch), spread: nil),
            "params_unet": .number(Double(model.unet.parameterCount), spread: nil),
            "params_rrdb": .number(Double(model.rrdb.parameterCount), spread: nil),
            "params": .number(Double(model.parameterCount), spread: nil),
        ]
        return ResultTable.Row(id: row.id, label: row.label, cells: cells, paper: row.paper, note: row.note)
    }

    /// A finished search's score matrix, or nil while it runs.
    func matrix(_ reference: String, _ table: TablePlan.Table) throws -> (scores: [[Double]], lowerIsBetter: Bool, step: PlannedStep)? {
        let step = try plan.step(named: reference, in: table)
        guard step.spec.kind == .search else { throw TableSpecError("\(table.spec.name): \(reference) is not a search step") }
        guard Planner.isDone(step) else { return nil }
        let references = step.spec.allReferences ? try referenceCount(step) : step.spec.references!
        let scores = try BoundaryConditionSearch.scoreMatrix(step.artifact, candidates: step.spec.candidates!, references: references)
        return (scores, BoundaryConditionMetric(rawValue: step.spec.metric!)!.lowerIsBetter, step)
    }

    /// The number of references of a finished all-references search (the images of its set).
    func referenceCount(_ step: PlannedStep) throws -> Int {
        let settings = try String(contentsOfFile: step.artifact + ".run/settings.txt", encoding: .utf8)
        guard let line = settings.split(separator: "\n").first(where: { $0.hasPrefix("references=") }),
              let list = try JSONSerialization.jsonObject(with: Data(line.dropFirst("references=".count).utf8)) as? [Any] else {
            throw TableSpecError("\(step.artifact).run/settings.txt: no reference list")
        }
        return list.count
    }

    func fillAblation(_ result: inout ResultTable, _ table: TablePlan.Table) throws {
        guard let a = table.scale.ablation else { throw TableSpecError("\(table.spec.name): a bc-ablation table needs 'ablation'") }
        result.columns = [
            .init(key: "K", header: "K", digits: 0, hasPaperColumn: false), .init(key: "R", header: "R", digits: 0, hasPaperColumn: false),
            .init(key: "test", header: "test \(try plan.step(named: a.search, in: table).spec.metric ?? "")", digits: 3, hasPaperColumn: false),
            .init(key: "gain", header: "gain over random x_T", digits: 3, hasPaperColumn: false),
        ]
        let settings = a.referenceCounts.map { (a.candidatesForReferences, $0) } + a.candidateCounts.map { ($0, a.referencesForCandidates) }
        let labels = a.referenceCounts.map { "R ablation: R = \($0)" } + a.candidateCounts.map { "K ablation: K = \($0)" }
        let ids = a.referenceCounts.map { "R\($0)" } + a.candidateCounts.map { "K\($0)" }
        guard let search = try matrix(a.search, table), let test = try matrix(a.test, table) else {
            result.rows = zip(ids, labels).map { .init(id: $0, label: $1, cells: ["K": .pending, "R": .pending, "test": .pending, "gain": .pending],
                                                      paper: [:], note: nil) }
            return
        }
        let points = try BoundaryConditionAblation.subsetWinners(search: search.scores, test: test.scores, lowerIsBetter: search.lowerIsBetter,
                                                                 settings: settings.map { (candidates: $0.0, references: $0.1) },
                                                                 draws: a.draws, seed: a.seed)
        let random = test.scores.map { $0.reduce(0, +) / Double($0.count) }.reduce(0, +) / Double(test.scores.count)
        result.rows = zip(zip(ids, labels), points).map { pair, p in
            .init(id: pair.0, label: pair.1, cells: ["K": .number(Double(p.candidates), spread: nil), "R": .number(Double(p.references), spread: nil),
                                                   "test": .number(p.mean, spread: p.standardDeviation),
                                                   "gain": .number(p.gainOverRandom, spread: p.standardDeviation)], paper: [:], note: nil)
        }
        let metric = search.step.spec.metric!
        result.remarks.append("Each setting draws \(a.draws) random subsets (seed \(a.seed)) of the \(search.scores.count) candidates and "
            + "\(search.scores[0].count) references of one search (\(search.step.summary)), picks each subset's winner by its mean \(metric) "
            + "on the subset's references, and reports the winner's mean \(metric) on \(test.scores[0].count) held-out test patches "
            + "(the same candidates scored there: \(test.step.summary)); mean ± sample standard deviation over the draws. "
            + "A random x_T scores \(String(format: "%.3f", random)) on the test patches (the mean over all candidates); the gain is the "
            + "improvement over that (\(search.lowerIsBetter ? "lower" : "higher") \(metric) is better).")
        if let paper = a.paper { result.remarks.append("Paper: \(paper)") }
        let byR = Array(points.prefix(a.referenceCounts.count)), byK = Array(points.dropFirst(a.referenceCounts.count))
        result.svg = AblationChart(title: "\(table.spec.name): gain of x̃_T over random x_T (\(metric), test patches)",
                                   panels: [("R (K = \(a.candidatesForReferences))", byR.map { (Double($0.references), $0.gainOverRandom, $0.standardDeviation) }),
                                            ("K (R = \(a.referencesForCandidates))", byK.map { (Double($0.candidates), $0.gainOverRandom, $0.standardDeviation) })],
                                   yLabel: "gain in \(metric)").svg
    }

    func fillCorrelation(_ result: inout ResultTable, _ table: TablePlan.Table) throws {
        guard let c = table.scale.correlation else { throw TableSpecError("\(table.spec.name): a bc-correlation table needs 'correlation'") }
        result.columns = [
            .init(key: "pairs", header: "pairs", digits: 0, hasPaperColumn: false),
            .init(key: "pearson", header: "Pearson r", digits: 3, hasPaperColumn: false),
            .init(key: "spearman", header: "Spearman ρ", digits: 3, hasPaperColumn: false),
        ]
        guard let search = try matrix(c.search, table) else {
            result.rows = [.init(id: "all", label: "all reference pairs", cells: ["pairs": .pending, "pearson": .pending, "spearman": .pending],
                                 paper: [:], note: nil)]
            return
        }
        let pairs = BoundaryConditionAblation.referenceCorrelations(search.scores)
        func stats(_ v: [Double]) -> (mean: Double, sd: Double) {
            let m = v.reduce(0, +) / Double(v.count)
            let sd = v.count > 1 ? (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot() : 0
            return (m, sd)
        }
        let p = stats(pairs.map(\.pearson)), s = stats(pairs.map(\.spearman))
        result.rows.append(.init(id: "all", label: "all reference pairs (mean ± sd)",
                                 cells: ["pairs": .number(Double(pairs.count), spread: nil), "pearson": .number(p.mean, spread: p.sd),
                                         "spearman": .number(s.mean, spread: s.sd)], paper: [:], note: nil))
        let positive = pairs.filter { $0.spearman > 0 }.count
        result.rows.append(.init(id: "positive", label: "pairs with ρ > 0", cells: ["pairs": .number(Double(positive), spread: nil)],
                                 paper: [:], note: nil))
        for pair in pairs where pair.first < c.listed && pair.second < c.listed {
            result.rows.append(.init(id: "r\(pair.first)-r\(pair.second)", label: "references \(pair.first) and \(pair.second)",
                                     cells: ["pairs": .number(1, spread: nil), "pearson": .number(pair.pearson, spread: nil),
                                             "spearman": .number(pair.spearman, spread: nil)], paper: [:], note: nil))
        }
        result.remarks.append("The correlation, over the \(search.scores.count) candidates x_T^k of one search (\(search.step.summary)), "
            + "between the scores on two references: a high value means references agree on which x_T is good, the premise of one "
            + "shared x̃_T.")
        if let paper = c.paper { result.remarks.append("Paper: \(paper)") }
    }

    /// The rows of `order` must be best to worst in `metric`, each at least as good as the
    /// next within `tolerance` (higher is better except for lpips).
    func check(_ rows: [ResultTable.Row], _ check: OrderingCheck) -> ResultTable.CheckResult {
        let lowerIsBetter = check.metric == "lpips"
        var values: [(String, Double)] = []
        for id in check.order {
            guard let row = rows.first(where: { $0.id == id }) else {
                return .init(claim: check.claim, holds: nil, pending: false, detail: "no row '\(id)'")
            }
            guard case let .number(v, _)? = row.cells[check.metric], v.isFinite else {
                // Pending: its steps have not run. Anything else: not computed at this scale
                // (LPIPS without pretrained weights), which no amount of waiting changes.
                let pending = row.cells[check.metric] == .pending
                return .init(claim: check.claim, holds: nil, pending: pending,
                             detail: "\(check.metric) of \(row.label) is " + (pending ? "not measured yet" : "not computed at this scale"))
            }
            values.append((row.label, v))
        }
        var failures: [String] = []
        for (a, b) in zip(values, values.dropFirst()) {
            let ok = lowerIsBetter ? a.1 <= b.1 + check.tolerance : a.1 >= b.1 - check.tolerance
            if !ok { failures.append("\(a.0) \(String(format: "%.4g", a.1)) vs \(b.0) \(String(format: "%.4g", b.1))") }
        }
        let listing = values.map { "\($0.0) \(String(format: "%.4g", $0.1))" }.joined(separator: ", ")
        return .init(claim: check.claim, holds: failures.isEmpty, pending: false,
                     detail: failures.isEmpty ? "\(check.metric): \(listing)" : "out of order: " + failures.joined(separator: "; "))
    }
}
