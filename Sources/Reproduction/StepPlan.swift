// The plan of a table run: every step the tables need, in dependency order, each with its
// identity — a SHA-256 of everything that decides its result (its settings, the resolved
// training config, the digests of its input files and data folders, and the identities of
// the steps it reads). A step lives in `OUT/steps/<kind>-<digest 12>/`; identical steps of
// two tables are one step, so a model two tables need is trained once, and a finished step
// (its `done.json` holds the identity) is never run again.
import ECDP
import Evaluation
import Foundation
import ProjectFiles
import Training

public struct PlannedStep: Sendable {
    public var id: String
    /// The names the specs give it (`eps`, `hybrid-iq`, …).
    public var names: [String]
    public var spec: StepSpec
    public var folder: String
    public var digest: String
    /// The steps this one reads: the spec's names (`@name` without the @) → step ids. A
    /// name means this step's own table's step, whatever other tables call by that name.
    public var dependencyIDs: [String: String]
    /// Steps whose outputs this one reads (ids).
    public var dependencies: [String] { Array(Set(dependencyIDs.values)).sorted() }
    /// One line: what the step does.
    public var summary: String
    /// The config of the model it trains or uses (for cost estimates and parameter counts).
    public var modelConfig: TrainingConfig?
    public var estimatedSeconds: Double = 0
    /// The estimate needs data that is not there (a dry run without --data).
    public var estimateUnknown = false
    public var isDone = false

    public var donePath: String { (folder as NSString).appendingPathComponent("done.json") }
    /// train, finetune: the run folder; its checkpoint.h5 is the model.
    public var runFolder: String { (folder as NSString).appendingPathComponent("run") }
    /// patches: the prepared set (hr/, lr/).
    public var setFolder: String { (folder as NSString).appendingPathComponent("set") }
    /// search: the x̃_T artifact (its score matrix in `<artifact>.run/`).
    public var artifact: String { (folder as NSString).appendingPathComponent("xT.safetensors") }
    /// eval: the evaluation folder (summary.json, per_image.csv, sr/).
    public var evalFolder: String { (folder as NSString).appendingPathComponent("eval") }
}

/// The tables of one invocation, resolved at one scale.
public struct TablePlan: Sendable {
    public struct Table: Sendable {
        public var spec: TableSpec
        public var scale: ScaleSpec
        /// The spec's step names → step ids.
        public var stepIDs: [String: String]
    }

    public var scaleName: String
    public var tables: [Table]
    /// What --data must hold, when a dry run planned without it (`$DATA/...: how`).
    public var missingData: [String] = []
    /// Execution order (dependencies first).
    public var steps: [PlannedStep]

    public func step(_ id: String) -> PlannedStep? { steps.first { $0.id == id } }

    /// The step a reference (`@name`) of `step`'s spec names.
    func dependency(_ reference: String, of step: PlannedStep) throws -> PlannedStep {
        guard let id = step.dependencyIDs[String(reference.dropFirst())], let d = self.step(id) else {
            throw TableSpecError("step \(step.id): no step \(reference)")
        }
        return d
    }

    /// A table's step by its spec name (`@name` or `name`).
    func step(named reference: String, in table: Table) throws -> PlannedStep {
        let name = reference.hasPrefix("@") ? String(reference.dropFirst()) : reference
        guard let id = table.stepIDs[name], let s = step(id) else {
            throw TableSpecError("\(table.spec.name): no step '\(name)' at scale \(scaleName)")
        }
        return s
    }
}

/// Builds a `TablePlan`: resolves references, `$DATA` paths and configs, computes identities.
struct Planner {
    let scaleName: String
    let data: String?
    /// A dry run plans without --data: `$DATA` paths stay as written and count as missing.
    let allowMissingData: Bool
    let out: String
    let digests: FileDigests
    /// Steps shared by every table (`Evaluation/tables/common.yaml`), by scale.
    let common: [String: [String: StepSpec]]

    func plan(_ specs: [TableSpec]) throws -> TablePlan {
        var steps: [PlannedStep] = []
        var tables: [TablePlan.Table] = []
        var missingData: [String] = []
        for spec in specs {
            guard let scale = spec.scales[scaleName] else {
                throw TableSpecError("\(spec.name) has no '\(scaleName)' scale (it has: \(spec.scales.keys.sorted().joined(separator: ", ")))")
            }
            if data == nil, allowMissingData {
                for r in scale.requires where !missingData.contains("$DATA/\(r.path): \(r.how)") { missingData.append("$DATA/\(r.path): \(r.how)") }
            } else {
                try checkData(spec, scale)
            }
            var definitions = common[scaleName] ?? [:]
            for (name, s) in scale.steps {
                if let shared = definitions[name], shared != s {
                    throw TableSpecError("\(spec.name): step '\(name)' is also defined in common.yaml, differently; rename one")
                }
                definitions[name] = s
            }
            var ids: [String: String] = [:]
            var visiting: Set<String> = []
            func resolve(_ name: String) throws -> String {
                if let id = ids[name] { return id }
                guard let s = definitions[name] else { throw TableSpecError("\(spec.name): no step named '\(name)' at scale \(scaleName)") }
                guard visiting.insert(name).inserted else { throw TableSpecError("\(spec.name): step '\(name)' depends on itself") }
                let dependencyIDs = try s.dependencies.map(resolve)
                // A step may name one dependency twice (hr: @set, lr: @set).
                var planned = try make(name: name, spec: substituted(s), dependencies: Dictionary(
                    zip(s.dependencies, dependencyIDs), uniquingKeysWith: { first, _ in first }), known: steps)
                if let existing = steps.firstIndex(where: { $0.id == planned.id }) {
                    if !steps[existing].names.contains(name) { steps[existing].names.append(name) }
                } else {
                    planned.isDone = Self.isDone(planned)
                    steps.append(planned)
                }
                ids[name] = planned.id
                visiting.remove(name)
                return planned.id
            }
            for name in try Self.neededSteps(spec, scale) { _ = try resolve(name) }
            tables.append(.init(spec: spec, scale: scale, stepIDs: ids))
        }
        if !allowMissingData { try digests.save() }  // a dry run writes nothing
        var plan = TablePlan(scaleName: scaleName, tables: tables, steps: steps)
        plan.missingData = missingData
        return plan
    }

    /// The steps the rows, the ablation and the correlation read, in the order they are named.
    static func neededSteps(_ spec: TableSpec, _ scale: ScaleSpec) throws -> [String] {
        var names: [String] = []
        func add(_ reference: String?, _ place: String) throws {
            guard let reference else { return }
            guard reference.hasPrefix("@") else { throw TableSpecError("\(spec.name): \(place) must name a step as @name, not '\(reference)'") }
            let name = String(reference.dropFirst())
            if !names.contains(name) { names.append(name) }
        }
        for row in scale.rows { try add(row.eval, "row \(row.id)'s eval") }
        try add(scale.ablation?.search, "ablation.search")
        try add(scale.ablation?.test, "ablation.test")
        try add(scale.correlation?.search, "correlation.search")
        return names
    }

    /// `$DATA` paths need `--data`; without it, say what to download and how to prepare it.
    func checkData(_ spec: TableSpec, _ scale: ScaleSpec) throws {
        guard !scale.requires.isEmpty else { return }
        guard let data else {
            let list = scale.requires.map { "  $DATA/\($0.path): \($0.how)" }.joined(separator: "\n")
            throw TableSpecError("\(spec.name) at scale \(scaleName) needs --data DIR holding:\n\(list)\n(see docs/results.md)")
        }
        let missing = scale.requires.filter { !FileManager.default.fileExists(atPath: (data as NSString).appendingPathComponent($0.path)) }
        guard missing.isEmpty else {
            throw TableSpecError("\(spec.name): --data \(data) lacks "
                + missing.map { "\($0.path) (\($0.how))" }.joined(separator: "; "))
        }
    }

    /// The spec with `$DATA` replaced in every path and override, and relative paths of the
    /// repository's own files found from any working directory (ProjectFiles).
    func substituted(_ s: StepSpec) -> StepSpec {
        func sub(_ v: String?) -> String? {
            guard let v else { return nil }
            let path = data.map { v.replacingOccurrences(of: "$DATA", with: $0) } ?? v
            return path.hasPrefix("@") || path.hasPrefix("$") ? path : ProjectFiles.resolve(path)
        }
        var r = s
        r.subject = [.train, .finetune].contains(s.kind) ? s.subject : sub(s.subject)!
        r.from = sub(s.from)
        r.reference = sub(s.reference)
        r.hr = sub(s.hr)
        r.lr = sub(s.lr)
        r.startingNoise = sub(s.startingNoise)
        r.lpipsBackbone = sub(s.lpipsBackbone)
        r.overrides = s.overrides.map { o in data.map { o.replacingOccurrences(of: "$DATA", with: $0) } ?? o }
        return r
    }

    /// One step with its identity. `dependencies` maps the spec's names to step ids.
    func make(name: String, spec s: StepSpec, dependencies: [String: String], known: [PlannedStep]) throws -> PlannedStep {
        func dependency(_ reference: String) -> PlannedStep? {
            guard reference.hasPrefix("@"), let id = dependencies[String(reference.dropFirst())] else { return nil }
            return known.first { $0.id == id }
        }
        func required<T>(_ value: T?, _ key: String) throws -> T {
            guard let value else { throw TableSpecError("step '\(name)' (\(s.kind.rawValue)) needs '\(key)'") }
            return value
        }
        /// A model reference: its identity and config.
        func model(_ reference: String) throws -> (digest: String, config: TrainingConfig?) {
            if let d = dependency(reference) {
                guard [.model, .train, .finetune].contains(d.spec.kind) else {
                    throw TableSpecError("step '\(name)': \(reference) is a \(d.spec.kind.rawValue) step, not a model")
                }
                return (d.digest, d.modelConfig)
            }
            guard !reference.hasPrefix("@") else { throw TableSpecError("step '\(name)': no step \(reference)") }
            return (try digests.file(reference), try? InferenceModel.load(checkpoint: reference).config)
        }
        /// A folder of images or a patches step: its identity.
        func folder(_ reference: String, hr: Bool) throws -> String {
            if let d = dependency(reference) {
                guard d.spec.kind == .patches else { throw TableSpecError("step '\(name)': \(reference) is not a patches step") }
                return "\(d.digest)/\(hr ? "hr" : "lr")"
            }
            return try digests.folder(reference)
        }
        var lines = ["kind=\(s.kind.rawValue)"]
        if let network = s.lpips {
            guard LPIPSNetwork(rawValue: network) != nil else { throw TableSpecError("step '\(name)': lpips \(network): alex, vgg or squeeze") }
            lines.append("lpips=\(network) \(try s.lpipsBackbone.map { try digests.file($0) } ?? "default backbone")")
        }
        var config: TrainingConfig?
        var summary = ""
        switch s.kind {
        case .model:
            let (digest, cfg) = try model(s.subject)
            lines.append("file=\(digest)")
            config = cfg
            summary = "model \(s.subject)"
        case .train, .finetune:
            var cfg: TrainingConfig
            do { cfg = try TrainingConfig.resolve(s.subject, overrides: s.overrides) } catch {
                throw TableSpecError("step '\(name)': \(error)")
            }
            if let seed = s.seed { cfg.seed = seed }
            let steps = s.steps ?? cfg.schedule.steps
            lines += ["config=\(cfg.yaml)", "steps=\(steps)"]
            lines += try cfg.data.train.map { "train=\(try digests.folder(ProjectFiles.resolve($0)))" }
            if let v = cfg.data.validation { lines.append("validation=\(try digests.folder(ProjectFiles.resolve(v)))") }
            if let v = cfg.data.trainLR { lines.append("train_lr=\(try digests.folder(ProjectFiles.resolve(v)))") }
            if s.kind == .finetune {
                let parent = try required(s.from, "from")
                lines.append("parent=\(try model(parent).digest)")
                summary = "fine-tune \(parent) with \(s.subject) \(s.overrides.joined(separator: " ")) to step \(steps)"
            } else {
                summary = "train \(s.subject) \(s.overrides.joined(separator: " ")) seed \(cfg.seed) to step \(steps)"
            }
            config = cfg
        case .patches:
            lines += ["input=\(try folder(s.subject, hr: true))", "size=\(try required(s.size, "size"))",
                      "count=\(try required(s.count, "count"))", "seed=\(s.seed ?? 0)"]
            summary = "\(s.count!) patches of \(s.size!)² from \(s.subject), seed \(s.seed ?? 0)"
        case .search:
            let (digest, cfg) = try model(s.subject)
            let reference = try required(s.reference, "reference")
            lines += ["model=\(digest)", "set=\(s.overrides.joined(separator: " "))", "reference=\(try folder(reference, hr: true))",
                      "lr=\(try s.lr.map { try folder($0, hr: false) } ?? "degraded")", "all=\(s.allReferences)",
                      "solver=\(try required(s.solver, "solver"))", "K=\(try required(s.candidates, "K"))",
                      "R=\(s.allReferences ? "all" : String(try required(s.references, "R")))", "size=\(try required(s.size, "size"))",
                      "metric=\(try required(s.metric, "metric"))", "seed=\(s.seed ?? 0)"]
            guard BoundaryConditionMetric(rawValue: s.metric!) != nil else { throw TableSpecError("step '\(name)': unknown metric \(s.metric!)") }
            _ = try Sampler.parse(s.solver!)
            config = cfg
            summary = "find-bc \(s.subject) \(s.solver!) K \(s.candidates!) R \(s.allReferences ? "all of \(reference)" : String(s.references!)) "
                + "\(s.size!)² \(s.metric!) seed \(s.seed ?? 0)"
        case .eval:
            let (digest, cfg) = try model(s.subject)
            let hr = try required(s.hr, "hr")
            guard !s.solvers.isEmpty else { throw TableSpecError("step '\(name)' needs 'solvers'") }
            try EvaluationSettings.checkSolvers(s.solvers)
            let protocolName = try required(s.protocolName, "protocol")
            guard MetricProtocol.named(protocolName) != nil else { throw TableSpecError("step '\(name)': unknown protocol \(protocolName)") }
            lines += ["model=\(digest)", "set=\(s.overrides.joined(separator: " "))", "hr=\(try folder(hr, hr: true))", "lr=\(try s.lr.map { try folder($0, hr: false) } ?? "default")",
                      "protocol=\(protocolName)", "solvers=\(s.solvers.joined(separator: ","))",
                      "temperatures=\(s.temperatures.map { "\($0)" }.joined(separator: ","))",
                      "seeds=\(s.seeds.map(String.init).joined(separator: ","))", "limit=\(s.limit.map(String.init) ?? "all")"]
            if let x = s.startingNoise {
                guard let d = dependency(x), d.spec.kind == .search else { throw TableSpecError("step '\(name)': x_T must name a search step (@name)") }
                lines.append("x_T=\(d.digest)")
            }
            config = cfg
            summary = "eval \(s.subject)\(s.overrides.isEmpty ? "" : " (" + s.overrides.joined(separator: " ") + ")") on \(hr): \(s.solvers.joined(separator: ", "))"
                + (s.startingNoise.map { " from x̃_T \($0)" } ?? " τ \(s.temperatures.map { "\($0)" }.joined(separator: ","))")
                + " seeds \(s.seeds.map(String.init).joined(separator: ","))" + (s.limit.map { ", first \($0) images" } ?? "")
        }
        let digest = Digest.text(lines.joined(separator: "\n"))
        let id = "\(s.kind.rawValue)-\(digest.prefix(12))"
        return PlannedStep(id: id, names: [name], spec: s, folder: (out as NSString).appendingPathComponent("steps/\(id)"),
                           digest: digest, dependencyIDs: dependencies, summary: summary,
                           modelConfig: config)
    }

    /// Finished: its done.json holds the same identity.
    static func isDone(_ step: PlannedStep) -> Bool {
        guard step.spec.kind != .model else { return true }
        guard let data = FileManager.default.contents(atPath: step.donePath),
              let record = try? JSONDecoder().decode(StepRecord.self, from: data) else { return false }
        return record.digest == step.digest
    }
}

/// `done.json` of a finished step.
struct StepRecord: Codable {
    var digest: String
    var summary: String
    var seconds: Double
    var finished: String
}
