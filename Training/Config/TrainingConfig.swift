// The training configuration (Training/configs/*.yaml): YAML in, validated struct out.
// Unknown keys (typos) and bad values are errors that name the key; `--set a.b=value`
// overrides any key before validation. The resolved config is saved with every run.
import ECDP
import Foundation
import Yams

public struct TrainingConfig: Sendable, Equatable {
    public struct Data: Sendable, Equatable {
        /// HR training folders (one or several, e.g. DIV2K_train_HR and Flickr2K_HR for DF2K);
        /// empty in the `paper-*` configs, which name no default dataset.
        public var train: [String]
        public var trainLR: String?
        /// HR validation folder; nil when the config names none (then validation is off).
        public var validation: String?
        public var validationLR: String?
        public var scale: Int
        public var hrCrop: Int
        public var batch: Int
        public var augment: Bool
    }
    public struct Optimizer: Sendable, Equatable {
        public var lr: Float
        public var rrdbLR: Float
        public var warmupSteps: Int
        public var milestones: [Int]
        public var decay: Float
        public var clipValue: Float
        public var emaHorizon: Float
    }
    public struct Schedule: Sendable, Equatable {
        public var steps: Int
        /// At most this many steps make an epoch (the official `train_epoch_clip`); an epoch
        /// also ends when the data runs out. Learning-rate milestones count these epochs.
        public var iterationsPerEpoch: Int?
        public var logEvery: Int
        public var validateEvery: Int
        public var sampleEvery: Int
        public var checkpointEvery: Int
        public var keepEvery: Int
    }
    public struct Sampling: Sendable, Equatable {
        public var validationCrop: Int
        public var gridImages: Int
        public var gridSteps: Int
    }

    /// Image-quality fine-tuning (docs/design.md §5); nil for ordinary training configs.
    public struct Finetune: Sendable, Equatable {
        public var iqWeight: Float
        public var scoreMatchingWeight: Float
        public var rtol: Double
        public var atol: Double
        /// Converted torchvision VGG19 weights; nil uses a randomly initialised VGG19
        /// (allowed for tests and the CPU demo, and labelled as such everywhere).
        public var vggWeights: String?
        /// VGG channel widths divided by this (1 = real VGG19; larger only for tests).
        public var vggWidthDivisor: Int
    }

    public var name: String
    public var seed: UInt64
    public var finetune: Finetune?
    public var model: ModelConfig
    /// Pretrained encoder weights (`ecdp pretrain-rrdb` output) to start from, if any.
    public var rrdbInit: String?
    /// nil means `auto`: estimated from the training set when the run starts.
    public var sigma: Float?
    public var parametrization: Parametrization
    public var gamma: Double
    public var data: Data
    public var optimizer: Optimizer
    public var schedule: Schedule
    public var sampling: Sampling

    /// The keys a config may have; anything else is reported as a typo.
    static var schema: [String: Any] { [
        "name": true, "seed": true,
        "model": ["channels": true, "blocks": true, "rrdb_init": true,
                  "rrdb": ["features": true, "growth": true, "blocks": true, "selection": true]],
        "diffusion": ["sigma": true, "parametrization": true, "gamma": true],
        "data": ["train": true, "train_lr": true, "validation": true, "validation_lr": true, "scale": true,
                 "hr_crop": true, "batch": true, "augment": true],
        "optimizer": ["lr": true, "rrdb_lr": true, "warmup_steps": true, "milestones": true, "decay": true,
                      "clip_value": true, "ema_horizon": true],
        "schedule": ["steps": true, "iterations_per_epoch": true, "log_every": true, "validate_every": true, "sample_every": true,
                     "checkpoint_every": true, "keep_every": true],
        "sampling": ["validation_crop": true, "grid_images": true, "grid_steps": true],
        "finetune": ["iq_weight": true, "score_matching_weight": true, "rtol": true, "atol": true,
                     "vgg_weights": true, "vgg_width_divisor": true],
    ] }

    /// Loads `path`, applies `overrides` ("a.b=value", YAML values), validates.
    public static func load(_ path: String, overrides: [String] = []) throws -> TrainingConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError("\(path): cannot read the config file")
        }
        return try parse(text, source: path, overrides: overrides)
    }

    /// A config by name (`small`) or path (`my.yaml`): names resolve to
    /// `Training/configs/<name>.yaml` under the current directory.
    public static func resolve(_ nameOrPath: String, overrides: [String] = []) throws -> TrainingConfig {
        if FileManager.default.fileExists(atPath: nameOrPath) { return try load(nameOrPath, overrides: overrides) }
        let named = "Training/configs/\(nameOrPath).yaml"
        if FileManager.default.fileExists(atPath: named) { return try load(named, overrides: overrides) }
        throw ConfigError("\(nameOrPath): no such config file (and no Training/configs/\(nameOrPath).yaml)")
    }

    public static func parse(_ text: String, source: String, overrides: [String] = []) throws -> TrainingConfig {
        let loaded: Any?
        do { loaded = try Yams.load(yaml: text) } catch { throw ConfigError("\(source): invalid YAML: \(error)") }
        guard var root = loaded as? [String: Any] else { throw ConfigError("\(source): the config must be a YAML mapping") }
        for o in overrides { try apply(override: o, to: &root, source: source) }
        try checkKeys(root, schema, path: "", source: source)
        return try TrainingConfig(root, source: source)
    }

    static func apply(override: String, to root: inout [String: Any], source: String) throws {
        guard let eq = override.firstIndex(of: "=") else { throw ConfigError("--set \(override): expected key=value") }
        let key = String(override[..<eq]), raw = String(override[override.index(after: eq)...])
        let parts = key.split(separator: ".").map(String.init)
        guard !parts.isEmpty else { throw ConfigError("--set \(override): empty key") }
        let value: Any = ((try? Yams.load(yaml: raw)) ?? nil) ?? NSNull()
        func set(_ dict: inout [String: Any], _ path: ArraySlice<String>) throws {
            let head = path.first!
            if path.count == 1 { dict[head] = value; return }
            var child = dict[head] as? [String: Any] ?? [:]
            try set(&child, path.dropFirst())
            dict[head] = child
        }
        try set(&root, parts[...])
    }

    static func checkKeys(_ dict: [String: Any], _ schema: [String: Any], path: String, source: String) throws {
        for (k, v) in dict {
            let full = path.isEmpty ? k : "\(path).\(k)"
            guard let allowed = schema[k] else {
                let near = schema.keys.sorted().joined(separator: ", ")
                throw ConfigError("\(source): unknown key '\(full)' (allowed here: \(near))")
            }
            if let sub = allowed as? [String: Any] {
                guard let child = v as? [String: Any] else { throw ConfigError("\(source): '\(full)' must be a mapping") }
                try checkKeys(child, sub, path: full, source: source)
            }
        }
    }

    init(_ root: [String: Any], source: String) throws {
        let r = ConfigReader(root: root, source: source)
        name = try r.string("name")
        seed = UInt64(try r.int("seed", min: 0))
        model = ModelConfig(channels: try r.ints("model.channels"), blocks: try r.ints("model.blocks"),
                            rrdbFeatures: try r.int("model.rrdb.features", min: 1), rrdbGrowth: try r.int("model.rrdb.growth", min: 1),
                            rrdbBlocks: try r.int("model.rrdb.blocks", min: 1), rrdbSelection: try r.ints("model.rrdb.selection"))
        if let problem = model.problems.first { throw ConfigError("\(source): \(problem)") }
        rrdbInit = r.optionalString("model.rrdb_init")
        if (try? r.string("diffusion.sigma")) == "auto" { sigma = nil } else { sigma = Float(try r.double("diffusion.sigma", above: 0)) }
        let p = try r.string("diffusion.parametrization")
        guard let par = Parametrization(rawValue: p) else {
            throw ConfigError("\(source): diffusion.parametrization '\(p)' is not one of \(Parametrization.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        parametrization = par
        gamma = try r.double("diffusion.gamma", above: 0)
        data = Data(train: try r.strings("data.train"), trainLR: r.optionalString("data.train_lr"),
                    validation: r.optionalString("data.validation"), validationLR: r.optionalString("data.validation_lr"),
                    scale: try r.int("data.scale", min: 1), hrCrop: try r.int("data.hr_crop", min: 1),
                    batch: try r.int("data.batch", min: 1), augment: try r.bool("data.augment"))
        if data.trainLR != nil, data.train.count > 1 {
            throw ConfigError("\(source): data.train_lr pairs LR images with one HR folder, but data.train lists \(data.train.count)")
        }
        guard data.hrCrop % data.scale == 0 else { throw ConfigError("\(source): data.hr_crop \(data.hrCrop) is not a multiple of data.scale \(data.scale)") }
        optimizer = Optimizer(lr: Float(try r.double("optimizer.lr", above: 0)), rrdbLR: Float(try r.double("optimizer.rrdb_lr", above: -1e-30)),
                              warmupSteps: try r.int("optimizer.warmup_steps", min: 1), milestones: try r.ints("optimizer.milestones"),
                              decay: Float(try r.double("optimizer.decay", above: 0)), clipValue: Float(try r.double("optimizer.clip_value", above: 0)),
                              emaHorizon: Float(try r.double("optimizer.ema_horizon", above: 0.999)))
        schedule = Schedule(steps: try r.int("schedule.steps", min: 1),
                            iterationsPerEpoch: try r.has("schedule.iterations_per_epoch") ? r.int("schedule.iterations_per_epoch", min: 1) : nil,
                            logEvery: try r.int("schedule.log_every", min: 1),
                            validateEvery: try r.int("schedule.validate_every", min: 0), sampleEvery: try r.int("schedule.sample_every", min: 0),
                            checkpointEvery: try r.int("schedule.checkpoint_every", min: 1), keepEvery: try r.int("schedule.keep_every", min: 0))
        sampling = Sampling(validationCrop: try r.int("sampling.validation_crop", min: 1), gridImages: try r.int("sampling.grid_images", min: 1),
                            gridSteps: try r.int("sampling.grid_steps", min: 1))
        if (root["finetune"] as? [String: Any]) != nil {
            finetune = Finetune(iqWeight: Float(try r.double("finetune.iq_weight", above: -1e-30)),
                                scoreMatchingWeight: Float(try r.double("finetune.score_matching_weight", above: -1e-30)),
                                rtol: try r.double("finetune.rtol", above: 0), atol: try r.double("finetune.atol", above: 0),
                                vggWeights: r.optionalString("finetune.vgg_weights"),
                                vggWidthDivisor: try r.int("finetune.vgg_width_divisor", min: 1))
        } else {
            finetune = nil
        }
        guard sampling.validationCrop % data.scale == 0 else {
            throw ConfigError("\(source): sampling.validation_crop \(sampling.validationCrop) is not a multiple of data.scale \(data.scale)")
        }
    }

    /// The config as YAML (what a run folder and a checkpoint keep).
    public var yaml: String {
        func list(_ a: [Int]) -> String { "[" + a.map(String.init).joined(separator: ", ") + "]" }
        func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        var lines = ["name: \(quoted(name))", "seed: \(seed)", "model:",
                     "  channels: \(list(model.channels))", "  blocks: \(list(model.blocks))",
                     "  rrdb: {features: \(model.rrdbFeatures), growth: \(model.rrdbGrowth), blocks: \(model.rrdbBlocks), selection: \(list(model.rrdbSelection))}"]
        if let rrdbInit { lines.append("  rrdb_init: \(quoted(rrdbInit))") }
        lines += [
                     "diffusion:", "  sigma: \(sigma.map { "\($0)" } ?? "auto")", "  parametrization: \(parametrization.rawValue)", "  gamma: \(gamma)",
                     "data:", "  train: [" + data.train.map(quoted).joined(separator: ", ") + "]"]
        if let l = data.trainLR { lines.append("  train_lr: \(quoted(l))") }
        if let v = data.validation { lines.append("  validation: \(quoted(v))") }
        if let l = data.validationLR { lines.append("  validation_lr: \(quoted(l))") }
        lines += ["  scale: \(data.scale)", "  hr_crop: \(data.hrCrop)", "  batch: \(data.batch)", "  augment: \(data.augment)",
                  "optimizer:", "  lr: \(optimizer.lr)", "  rrdb_lr: \(optimizer.rrdbLR)", "  warmup_steps: \(optimizer.warmupSteps)",
                  "  milestones: \(list(optimizer.milestones))", "  decay: \(optimizer.decay)", "  clip_value: \(optimizer.clipValue)",
                  "  ema_horizon: \(optimizer.emaHorizon)",
                  "schedule:", "  steps: \(schedule.steps)"]
        if let n = schedule.iterationsPerEpoch { lines.append("  iterations_per_epoch: \(n)") }
        lines += ["  log_every: \(schedule.logEvery)", "  validate_every: \(schedule.validateEvery)",
                  "  sample_every: \(schedule.sampleEvery)", "  checkpoint_every: \(schedule.checkpointEvery)", "  keep_every: \(schedule.keepEvery)",
                  "sampling:", "  validation_crop: \(sampling.validationCrop)", "  grid_images: \(sampling.gridImages)", "  grid_steps: \(sampling.gridSteps)"]
        if let f = finetune {
            lines += ["finetune:", "  iq_weight: \(f.iqWeight)", "  score_matching_weight: \(f.scoreMatchingWeight)",
                      "  rtol: \(f.rtol)", "  atol: \(f.atol)", "  vgg_width_divisor: \(f.vggWidthDivisor)"]
            if let v = f.vggWeights { lines.append("  vgg_weights: \(quoted(v))") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension TrainingConfig {
    /// The model this config describes — the one place an `ECDPModel` is built from a config:
    /// σ as given, else the config's (0.2 while `auto` is unresolved), weights initialised from
    /// `seed` (default: the config's).
    public func makeModel(sigma: Float? = nil, seed: UInt64? = nil) -> ECDPModel {
        ECDPModel(config: model, sigma: sigma ?? self.sigma ?? 0.2, parametrization: parametrization, gamma: gamma,
                  seed: seed ?? self.seed)
    }

    /// The training set, or an error saying how to name one (the `paper-*` configs name none).
    public func trainingDataset() throws -> SRDataset {
        guard !data.train.isEmpty else {
            throw ConfigError("\(name): no training data (data.train is empty). Point it at the HR images, e.g. "
                + "--set data.train=[/data/DIV2K_train_HR,/data/Flickr2K_HR] for DF2K (×4), a CelebA or ImageNet HR folder "
                + "for paper-celeba / paper-imagenet, and --set data.validation=/data/DIV2K_valid_HR (see docs/training.md)")
        }
        return try SRDataset(hrFolders: data.train, lrFolder: data.trainLR, scale: data.scale)
    }

    /// The training crops in their deterministic order, epochs cut at `schedule.iterations_per_epoch`.
    public func trainingBatches() throws -> TrainingBatches {
        try TrainingBatches(dataset: trainingDataset(), batchSize: data.batch, cropSize: data.hrCrop, seed: seed,
                            augment: data.augment, epochLimit: schedule.iterationsPerEpoch)
    }
}

public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Typed access to dotted keys of a YAML mapping, with errors that name the key.
struct ConfigReader {
    let root: [String: Any]
    let source: String

    func value(_ key: String) throws -> Any {
        var node: Any = root
        for part in key.split(separator: ".") {
            guard let dict = node as? [String: Any], let next = dict[String(part)], !(next is NSNull) else {
                throw ConfigError("\(source): missing key '\(key)'")
            }
            node = next
        }
        return node
    }

    func string(_ key: String) throws -> String {
        let v = try value(key)
        if let s = v as? String { return s }
        if let n = v as? NSNumber { return n.stringValue }
        throw ConfigError("\(source): '\(key)' must be a string")
    }

    func optionalString(_ key: String) -> String? { try? string(key) }

    func int(_ key: String, min: Int) throws -> Int {
        let v = try value(key)
        guard let i = (v as? Int) ?? (v as? String).flatMap(Int.init) else { throw ConfigError("\(source): '\(key)' must be an integer, got \(v)") }
        guard i >= min else { throw ConfigError("\(source): '\(key)' must be at least \(min), got \(i)") }
        return i
    }

    func double(_ key: String, above lower: Double) throws -> Double {
        let v = try value(key)
        guard let d = (v as? Double) ?? (v as? Int).map(Double.init) ?? (v as? String).flatMap(Double.init) else {
            throw ConfigError("\(source): '\(key)' must be a number, got \(v)")
        }
        guard d > lower else { throw ConfigError("\(source): '\(key)' must be greater than \(lower), got \(d)") }
        return d
    }

    func bool(_ key: String) throws -> Bool {
        guard let b = try value(key) as? Bool else { throw ConfigError("\(source): '\(key)' must be true or false") }
        return b
    }

    func has(_ key: String) -> Bool { (try? value(key)) != nil }

    /// A string or a list of strings; a missing key or an empty list is [].
    func strings(_ key: String) throws -> [String] {
        guard has(key) else { return [] }
        let v = try value(key)
        if let s = v as? String { return [s] }
        guard let a = v as? [Any], let strings = a.map({ $0 as? String }) as? [String] else {
            throw ConfigError("\(source): '\(key)' must be a folder or a list of folders, got \(v)")
        }
        return strings
    }

    func ints(_ key: String) throws -> [Int] {
        let v = try value(key)
        guard let a = v as? [Any], let ints = a.map({ $0 as? Int }) as? [Int] else {
            throw ConfigError("\(source): '\(key)' must be a list of integers, got \(v)")
        }
        return ints
    }
}
