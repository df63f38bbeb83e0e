// A table spec (`Evaluation/tables/<name>.yaml`, docs/results.md): what a paper table
// reports, the steps that produce our numbers at each scale (train, fine-tune, prepare
// patches, search x̃_T, evaluate), how rows are filled from those steps, the paper's numbers
// beside each row, and the orderings to check. Decoded strictly: an unknown key is an error
// that names it and its place, so a typo never silently drops a setting.
import Foundation
import ProjectFiles
import Yams

public struct TableSpecError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public struct TableSpec: Decodable, Sendable {
    public enum Kind: String, Decodable, Sendable {
        /// Rows read from evaluation steps (metrics, NFE, time, parameters).
        case metrics
        /// Rows built from configs: architecture and parameter counts (no step runs).
        case architectures
        /// BC Fig. 3: the gain of x̃_T over subsets of R and K, from score matrices.
        case bcAblation = "bc-ablation"
        /// BC App. E: correlation of candidate score sequences between references.
        case bcCorrelation = "bc-correlation"
    }

    public var name: String
    public var title: String
    /// Where the paper's numbers come from (paper, table, data set).
    public var source: String
    public var kind: Kind
    /// Column keys (metrics: psnr, ssim, lr_psnr, lpips, nfe, seconds_per_image, params).
    public var columns: [String]
    public var scales: [String: ScaleSpec]

    enum CodingKeys: String, CodingKey, CaseIterable { case name, title, source, kind, columns, scales }

    public init(from decoder: Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        title = try c.decode(String.self, forKey: .title)
        source = try c.decode(String.self, forKey: .source)
        kind = try c.decode(Kind.self, forKey: .kind)
        columns = try c.decodeIfPresent([String].self, forKey: .columns) ?? []
        scales = try c.decode([String: ScaleSpec].self, forKey: .scales)
    }

    /// The folder holding `Evaluation/tables/`: the current directory or the repository's.
    public static var defaultRoot: String {
        ProjectFiles.locate("Evaluation/tables").map { (($0 as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent } ?? "."
    }

    /// The spec file of a table name (`Evaluation/tables/<name>.yaml` under `root`) or a path.
    public static func path(of nameOrPath: String, root: String = TableSpec.defaultRoot) -> String {
        nameOrPath.hasSuffix(".yaml") ? nameOrPath : (root as NSString).appendingPathComponent("Evaluation/tables/\(nameOrPath).yaml")
    }

    /// The table names of `Evaluation/tables/` (the shared step file `common.yaml` aside), sorted.
    public static func names(root: String = TableSpec.defaultRoot) -> [String] {
        let folder = (root as NSString).appendingPathComponent("Evaluation/tables")
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".yaml") && $0 != "common.yaml" }.map { String($0.dropLast(5)) }.sorted()
    }

    public static func load(_ path: String) throws -> TableSpec {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TableSpecError("\(path): cannot read the table spec (ecdp tables --list names the tables)")
        }
        do { return try YAMLDecoder().decode(TableSpec.self, from: text) } catch let e as TableSpecError {
            throw TableSpecError("\(path): \(e.message)")
        } catch let DecodingError.keyNotFound(key, context) {
            throw TableSpecError("\(path): \(StrictKeys.place(context.codingPath)) needs the key '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context) {
            // Yams wraps an error thrown inside a decoder (ours name the key) as "not valid YAML".
            if let ours = context.underlyingError as? TableSpecError { throw TableSpecError("\(path): \(ours.message)") }
            throw TableSpecError("\(path): \(StrictKeys.place(context.codingPath)): \(context.debugDescription)")
        } catch {
            throw TableSpecError("\(path): \(error)")
        }
    }
}

/// One scale of a table (`cpu` or `paper`).
public struct ScaleSpec: Decodable, Sendable {
    /// What this scale shortens or changes against the paper, stated in every output.
    public var note: String
    /// The data set the numbers are measured on.
    public var data: String
    /// The metric protocol of the numbers.
    public var protocolText: String
    /// Files that `--data DIR` must hold (`$DATA/...` paths) and how to make each.
    public var requires: [DataRequirement]
    public var steps: [String: StepSpec]
    public var rows: [RowSpec]
    public var checks: [OrderingCheck]
    public var ablation: AblationSpec?
    public var correlation: CorrelationSpec?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case note, data, protocolText = "protocol", requires, steps, rows, checks, ablation, correlation
    }

    public init(from decoder: Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        note = try c.decode(String.self, forKey: .note)
        data = try c.decode(String.self, forKey: .data)
        protocolText = try c.decode(String.self, forKey: .protocolText)
        requires = try c.decodeIfPresent([DataRequirement].self, forKey: .requires) ?? []
        steps = try c.decodeIfPresent([String: StepSpec].self, forKey: .steps) ?? [:]
        rows = try c.decodeIfPresent([RowSpec].self, forKey: .rows) ?? []
        checks = try c.decodeIfPresent([OrderingCheck].self, forKey: .checks) ?? []
        ablation = try c.decodeIfPresent(AblationSpec.self, forKey: .ablation)
        correlation = try c.decodeIfPresent(CorrelationSpec.self, forKey: .correlation)
    }
}

public struct DataRequirement: Decodable, Sendable {
    /// A path under `--data` (e.g. `DF2K/HR`).
    public var path: String
    /// How to get or make it (download, then `ecdp prepare …`).
    public var how: String

    enum CodingKeys: String, CodingKey, CaseIterable { case path, how }

    public init(from decoder: Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(String.self, forKey: .path)
        how = try c.decode(String.self, forKey: .how)
    }
}

/// One step: exactly one of the kind keys (`model`, `train`, `finetune`, `patches`,
/// `search`, `eval`) with its settings. References to other steps are written `@name`.
public struct StepSpec: Decodable, Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A given checkpoint file (no work).
        case model
        /// `ecdp train` of a config (name or path) with `set` overrides and a seed, to `steps`.
        case train
        /// `ecdp finetune` of the config from the parent `from`, to `steps`.
        case finetune
        /// `ecdp prepare --kind patches` of a folder: `count` patches of `size`², from `seed`.
        case patches
        /// `ecdp find-bc` with the model named by the kind key.
        case search
        /// `ecdp eval` of the model named by the kind key.
        case eval
    }

    public var kind: Kind
    /// The kind key's value: a path (model, patches), a config (train, finetune) or a model
    /// reference (search, eval).
    public var subject: String
    public var from: String?
    public var overrides: [String] = []
    public var seed: UInt64?
    public var steps: Int?
    public var size: Int?
    public var count: Int?
    public var reference: String?
    public var allReferences = false
    public var solver: String?
    public var candidates: Int?
    public var references: Int?
    public var metric: String?
    public var hr: String?
    public var lr: String?
    public var protocolName: String?
    public var solvers: [String] = []
    public var temperatures: [Double] = [1]
    public var seeds: [UInt64] = [0]
    public var startingNoise: String?
    public var limit: Int?
    /// search with metric lpips, eval with LPIPS: the network (alex, vgg, squeeze) and its
    /// torchvision backbone file.
    public var lpips: String?
    public var lpipsBackbone: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, train, finetune, patches, search, eval
        case from, overrides = "set", seed, steps, size, count, reference, allReferences = "all_references", solver,
             candidates = "K", references = "R", metric, hr, lr, protocolName = "protocol", solvers, temperatures, seeds,
             startingNoise = "x_T", limit, lpips, lpipsBackbone = "lpips_backbone"
    }

    public init(from decoder: Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kinds = Kind.allCases.filter { c.contains(CodingKeys(rawValue: $0.rawValue)!) }
        guard kinds.count == 1 else {
            throw TableSpecError("\(StrictKeys.place(decoder.codingPath)): a step needs exactly one of "
                + Kind.allCases.map(\.rawValue).joined(separator: ", ") + (kinds.isEmpty ? "" : " (found \(kinds.map(\.rawValue).joined(separator: ", ")))"))
        }
        kind = kinds[0]
        subject = try c.decode(String.self, forKey: CodingKeys(rawValue: kind.rawValue)!)
        from = try c.decodeIfPresent(String.self, forKey: .from)
        overrides = try c.decodeIfPresent([String].self, forKey: .overrides) ?? []
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
        steps = try c.decodeIfPresent(Int.self, forKey: .steps)
        size = try c.decodeIfPresent(Int.self, forKey: .size)
        count = try c.decodeIfPresent(Int.self, forKey: .count)
        reference = try c.decodeIfPresent(String.self, forKey: .reference)
        allReferences = try c.decodeIfPresent(Bool.self, forKey: .allReferences) ?? false
        solver = try c.decodeIfPresent(String.self, forKey: .solver)
        candidates = try c.decodeIfPresent(Int.self, forKey: .candidates)
        references = try c.decodeIfPresent(Int.self, forKey: .references)
        metric = try c.decodeIfPresent(String.self, forKey: .metric)
        hr = try c.decodeIfPresent(String.self, forKey: .hr)
        lr = try c.decodeIfPresent(String.self, forKey: .lr)
        protocolName = try c.decodeIfPresent(String.self, forKey: .protocolName)
        solvers = try c.decodeIfPresent([String].self, forKey: .solvers) ?? []
        temperatures = try c.decodeIfPresent([Double].self, forKey: .temperatures) ?? [1]
        seeds = try c.decodeIfPresent([UInt64].self, forKey: .seeds) ?? [0]
        startingNoise = try c.decodeIfPresent(String.self, forKey: .startingNoise)
        limit = try c.decodeIfPresent(Int.self, forKey: .limit)
        lpips = try c.decodeIfPresent(String.self, forKey: .lpips)
        lpipsBackbone = try c.decodeIfPresent(String.self, forKey: .lpipsBackbone)
    }

    /// The steps this one needs (`@name` references), in a fixed order.
    public var dependencies: [String] {
        [subject, from, reference, hr, lr, startingNoise].compactMap { $0 }.filter { $0.hasPrefix("@") }.map { String($0.dropFirst()) }
    }
}

/// A row of a table.
public struct RowSpec: Decodable, Sendable {
    /// A short name, used by `checks`.
    public var id: String
    public var label: String
    /// metrics: the eval step (`@name`) and which of its summary rows (solver; x_T
    /// `random` or the artifact; temperature).
    public var eval: String?
    public var solver: String?
    public var temperature: Double?
    /// architectures: the config.
    public var config: String?
    /// The paper's numbers by column key; absent where the paper gives none.
    public var paper: [String: Double]
    /// A remark printed with the row (what is shortened, what the paper's row is).
    public var note: String?

    enum CodingKeys: String, CodingKey, CaseIterable { case id, label, eval, solver, temperature, config, paper, note }

    public init(from decoder: Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        label = try c.decode(String.self, forKey: .label)
        eval = try c.decodeIfPresent(String.self, forKey: .eval)
        solver = try c.decodeIfPresent(String.self, forKey: .solver)
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature)
        config = try c.decodeIfPresent(String.self, forKey: .config)
        paper = try c.decodeIfPresent([String: Double].self, forKey: .paper) ?? [:]
        note = try c.decodeIfPresent(String.self, forKey: .note)
    }
}

/// An ordering the paper reports, checked on our numbers: the rows in `order` from best to
/// worst in `metric` (higher is better except for lpips), within `tolerance`.
public struct OrderingCheck: Decodable, Sendable {
    public var claim: String
    public var metric: String
    public var order: [String]
    public var tolerance: Double

    enum CodingKeys: String, CodingKey, CaseIterable { case claim, metric, order, tolerance }

    public init(from decoder: Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        claim = try c.decode(String.self, forKey: .claim)
        metric = try c.decode(String.self, forKey: .metric)
        order = try c.decode([String].self, forKey: .order)
        tolerance = try c.decodeIfPresent(Double.self, forKey: .tolerance) ?? 0
    }
}

/// BC Fig. 3: the R ablation (`references` values at `candidates_for_r` candidates) and the
/// K ablation (`candidates` values at `references_for_k`), `draws` random subsets each.
public struct AblationSpec: Decodable, Sendable {
    /// The search on reference patches and the same candidates scored on test patches.
    public var search: String
    public var test: String
    public var referenceCounts: [Int]
    public var candidatesForReferences: Int
    public var candidateCounts: [Int]
    public var referencesForCandidates: Int
    public var draws: Int
    public var seed: UInt64
    public var paper: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case search, test, referenceCounts = "R", candidatesForReferences = "K_for_R", candidateCounts = "K",
             referencesForCandidates = "R_for_K", draws, seed, paper
    }

    public init(from decoder: Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        search = try c.decode(String.self, forKey: .search)
        test = try c.decode(String.self, forKey: .test)
        referenceCounts = try c.decode([Int].self, forKey: .referenceCounts)
        candidatesForReferences = try c.decode(Int.self, forKey: .candidatesForReferences)
        candidateCounts = try c.decode([Int].self, forKey: .candidateCounts)
        referencesForCandidates = try c.decode(Int.self, forKey: .referencesForCandidates)
        draws = try c.decodeIfPresent(Int.self, forKey: .draws) ?? 8
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        paper = try c.decodeIfPresent(String.self, forKey: .paper)
    }
}

public struct CorrelationSpec: Decodable, Sendable {
    public var search: String
    /// How many references' pairs to list one by one (all pairs enter the summary).
    public var listed: Int
    public var paper: String?

    enum CodingKeys: String, CodingKey, CaseIterable { case search, listed, paper }

    public init(from decoder: Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        search = try c.decode(String.self, forKey: .search)
        listed = try c.decodeIfPresent(Int.self, forKey: .listed) ?? 4
        paper = try c.decodeIfPresent(String.self, forKey: .paper)
    }
}

/// Unknown keys are errors (a typo must not silently drop a setting).
enum StrictKeys {
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func check<K: CodingKey & CaseIterable>(_ decoder: Decoder, _ keys: K.Type) throws {
        let known = Set(K.allCases.map(\.stringValue))
        let c = try decoder.container(keyedBy: AnyKey.self)
        for key in c.allKeys where !known.contains(key.stringValue) {
            throw TableSpecError("\(place(decoder.codingPath)): unknown key '\(key.stringValue)' (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    static func place(_ path: [CodingKey]) -> String {
        path.isEmpty ? "top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
