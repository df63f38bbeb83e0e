// Reading a config file: YAML → Yams node tree → `--set` overrides applied to the tree →
// checks of the tree (size and nesting limits, so a config of aliases cannot expand to
// billions of nodes; unknown keys, with the nearest allowed key suggested) → `YAMLDecoder`
// → `validate()`. Every error is one line naming the file and key.
import Foundation
import ProjectFiles
import Yams

extension TrainingConfig {
    /// Loads `path`, applies `overrides` ("a.b=value", YAML values), validates.
    public static func load(_ path: String, overrides: [String] = []) throws -> TrainingConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError("\(path): cannot read the config file")
        }
        return try parse(text, source: path, overrides: overrides)
    }

    /// A config by name (`small`) or path (`my.yaml`): names resolve to
    /// `Training/configs/<name>.yaml` under the current directory, else under the
    /// repository's folder (`ECDP_HOME`, or the one this tool was built in; docs/cli.md).
    public static func resolve(_ nameOrPath: String, overrides: [String] = []) throws -> TrainingConfig {
        if FileManager.default.fileExists(atPath: nameOrPath) { return try load(nameOrPath, overrides: overrides) }
        if let named = ProjectFiles.locate("Training/configs/\(nameOrPath).yaml") { return try load(named, overrides: overrides) }
        throw ConfigError("\(nameOrPath): no such config file (and no Training/configs/\(nameOrPath).yaml here or under ECDP_HOME)")
    }

    public static func parse(_ text: String, source: String, overrides: [String] = []) throws -> TrainingConfig {
        let composed: Node?
        do { composed = try Yams.compose(yaml: text) } catch {
            // Yams appends the surrounding lines; the first line names the problem and its position.
            let first = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
            throw ConfigError("\(source): invalid YAML: \(first)")
        }
        guard var root = composed, root.mapping != nil else { throw ConfigError("\(source): the config must be a YAML mapping") }
        var budget = ConfigLimits.maximumNodes
        try ConfigLimits.check(root, depth: 0, budget: &budget, source: source)
        for o in overrides { try apply(override: o, to: &root) }
        do {
            try ConfigLayout.root.check(root, path: [], source: source)
            try requireFiniteNumbers(root, path: [], source: source)
            let config: TrainingConfig
            do {
                config = try YAMLDecoder().decode(TrainingConfig.self, from: root)
            } catch let error as DecodingError {
                throw ConfigError("\(source): \(ConfigLayout.describe(error, in: root))")
            } catch {
                throw ConfigError("\(source): \(error)")
            }
            try config.validate(source: source)
            return config
        } catch let error as ConfigError {
            throw attributed(error, source: source, overrides: overrides)
        }
    }

    /// A problem with a key that a `--set` gave is the `--set`'s, not the file's: name it.
    static func attributed(_ error: ConfigError, source: String, overrides: [String]) -> ConfigError {
        let prefix = "\(source): "
        guard error.message.hasPrefix(prefix) else { return error }
        let reason = String(error.message.dropFirst(prefix.count))
        // The last --set of a key wins, so it is the one to name.
        for o in overrides.reversed() {
            guard let eq = o.firstIndex(of: "=") else { continue }
            let key = o[..<eq]
            let named = ["'\(key)'", "'\(key)[", "'\(key)."].contains { reason.contains($0) }
            if named || reason.hasPrefix("\(key):") { return ConfigError("--set \(o): \(reason)") }
        }
        return error
    }

    /// YAML reads `.nan`, `.inf` (and Swift `nan`, `inf`) as numbers; no config value may be one.
    static func requireFiniteNumbers(_ node: Node, path: [String], source: String) throws {
        switch node {
        case let .mapping(mapping):
            for (key, value) in mapping { try requireFiniteNumbers(value, path: path + [key.string ?? "?"], source: source) }
        case let .sequence(sequence):
            for (i, value) in sequence.enumerated() { try requireFiniteNumbers(value, path: path + ["\(i)"], source: source) }
        case let .scalar(scalar):
            guard scalar.style == .plain else { return }
            let text = scalar.string.lowercased()
            let yamlSpecial = [".nan", ".inf", "+.inf", "-.inf"].contains(text)
            if yamlSpecial || (Double(text).map { !$0.isFinite } ?? false) {
                throw ConfigError("\(source): '\(path.joined(separator: "."))' must be a finite number, got \(scalar.string)")
            }
        case .alias:
            return
        }
    }

    /// `--set a.b=value`: the value is read as YAML and replaces (or adds) the key in the tree.
    static func apply(override: String, to root: inout Node) throws {
        guard let eq = override.firstIndex(of: "=") else { throw ConfigError("--set \(override): expected key=value") }
        let key = String(override[..<eq]), raw = String(override[override.index(after: eq)...])
        let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !parts.contains(where: \.isEmpty) else { throw ConfigError("--set \(override): empty key") }
        let value: Node
        do { value = try Yams.compose(yaml: raw) ?? Node("null", Tag(.null)) } catch {
            throw ConfigError("--set \(override): the value is not valid YAML")
        }
        var budget = ConfigLimits.maximumNodes
        try ConfigLimits.check(value, depth: 0, budget: &budget, source: "--set \(override)")
        func set(_ node: inout Node, _ path: ArraySlice<String>) throws {
            guard case var .mapping(mapping) = node else {
                throw ConfigError("--set \(override): '\(parts[..<(parts.count - path.count)].joined(separator: "."))' is not a mapping")
            }
            let head = path.first!
            let index = mapping.firstIndex { $0.key.string == head }
            var child = index.map { mapping[$0].value } ?? Node([(Node, Node)]())
            if path.count == 1 { child = value } else { try set(&child, path.dropFirst()) }
            if let index { mapping[index] = (mapping[index].key, child) } else { mapping[Node(head)] = child }
            node = .mapping(mapping)
        }
        try set(&root, parts[...])
    }
}

public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Limits on the YAML tree: a config holds well under a hundred nodes, so a tree of
/// thousands (typically aliases of aliases — the "billion laughs") is refused before anything walks it.
enum ConfigLimits {
    static let maximumNodes = 10_000
    static let maximumDepth = 32

    static func check(_ node: Node, depth: Int, budget: inout Int, source: String) throws {
        budget -= 1
        guard budget >= 0 else {
            throw ConfigError("\(source): the YAML expands to more than \(maximumNodes) values (aliases of aliases?); a config is far smaller")
        }
        guard depth <= maximumDepth else { throw ConfigError("\(source): the YAML nests deeper than \(maximumDepth) levels") }
        switch node {
        case let .mapping(mapping):
            for (key, value) in mapping {
                try check(key, depth: depth + 1, budget: &budget, source: source)
                try check(value, depth: depth + 1, budget: &budget, source: source)
            }
        case let .sequence(sequence):
            for item in sequence { try check(item, depth: depth + 1, budget: &budget, source: source) }
        case .scalar, .alias:
            break
        }
    }
}

/// The keys a config may hold, section by section, taken from the coding keys.
struct ConfigLayout {
    let keys: [String]
    let sections: [String: ConfigLayout]

    init<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type, sections: [String: ConfigLayout] = [:]) {
        self.keys = Keys.allCases.map(\.stringValue)
        self.sections = sections
    }

    static let root = ConfigLayout(TrainingConfig.CodingKeys.self, sections: [
        "model": ConfigLayout(TrainingConfig.ModelSection.CodingKeys.self,
                              sections: ["rrdb": ConfigLayout(TrainingConfig.ModelSection.RRDB.CodingKeys.self)]),
        "diffusion": ConfigLayout(TrainingConfig.DiffusionSection.CodingKeys.self),
        "data": ConfigLayout(TrainingConfig.Data.CodingKeys.self),
        "optimizer": ConfigLayout(TrainingConfig.Optimizer.CodingKeys.self),
        "schedule": ConfigLayout(TrainingConfig.Schedule.CodingKeys.self),
        "sampling": ConfigLayout(TrainingConfig.Sampling.CodingKeys.self),
        "finetune": ConfigLayout(TrainingConfig.Finetune.CodingKeys.self),
    ])

    /// Rejects unknown keys in `node` (a mapping) and its sections (Yams refuses repeated keys).
    func check(_ node: Node, path: [String], source: String) throws {
        let name = path.joined(separator: ".")
        guard case let .mapping(mapping) = node else {
            throw ConfigError("\(source): '\(name)' must be a mapping of \(keys.joined(separator: ", "))")
        }
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw ConfigError("\(source): a key in '\(name)' is not a string") }
            let full = (path + [key]).joined(separator: ".")
            guard keys.contains(key) else {
                let hint = Self.nearest(key, in: keys).map { " — did you mean '\((path + [$0]).joined(separator: "."))'?" } ?? ""
                throw ConfigError("\(source): unknown key '\(full)'\(hint) (allowed here: \(keys.joined(separator: ", ")))")
            }
            if let section = sections[key], value.null == nil {
                try section.check(value, path: path + [key], source: source)
            }
        }
    }

    /// The allowed key closest to a typo (edit distance at most a third of its length).
    static func nearest(_ key: String, in keys: [String]) -> String? {
        let scored = keys.map { ($0, editDistance(key, $0)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, best.count / 3) else { return nil }
        return best
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var previous = row[0]
            row[0] = i
            for j in 1...b.count {
                let saved = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = saved
            }
        }
        return row[b.count]
    }

    /// One line for a decoding error: the key (dotted, list items as [i]), what it must be,
    /// and what the file holds there.
    static func describe(_ error: DecodingError, in root: Node) -> String {
        func dotted(_ path: [any CodingKey]) -> String {
            path.reduce("") { text, key in
                if let i = key.intValue { return text + "[\(i)]" }
                return text.isEmpty ? key.stringValue : text + "." + key.stringValue
            }
        }
        func found(_ path: [any CodingKey]) -> String {
            var node: Node? = root
            for key in path { node = key.intValue.map { node?[$0] } ?? node?[key.stringValue] }
            guard let node else { return "nothing" }
            if let s = node.scalar?.string { return s.isEmpty ? "an empty value" : "'\(s)'" }
            return node.mapping != nil ? "a mapping" : "a list"
        }
        func kind(_ type: Any.Type) -> String {
            switch type {
            case is UInt64.Type: return "a non-negative integer"
            case is Int.Type: return "an integer"
            case is Float.Type, is Double.Type: return "a number"
            case is Bool.Type: return "true or false"
            case is String.Type: return "a string"
            case is [Int].Type: return "a list of integers"
            case is [String].Type: return "a list of strings"
            default: return "\(type)".contains("Mapping") ? "a mapping" : "\(type)".contains("Sequence") ? "a list" : "a \(type)"
            }
        }
        switch error {
        case let .keyNotFound(key, context):
            return "missing key '\(dotted(context.codingPath + [key]))'"
        case let .typeMismatch(type, context), let .valueNotFound(type, context):
            return "'\(dotted(context.codingPath))' must be \(kind(type)), got \(found(context.codingPath))"
        case let .dataCorrupted(context):
            return "'\(dotted(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
