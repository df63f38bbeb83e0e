// The training configuration (Training/configs/*.yaml) as Codable structs, decoded and
// encoded with Yams. Reading a file (unknown keys, `--set`, YAML limits, error messages)
// is ConfigDecoding.swift; the value checks that follow decoding are `validate()` here.
// The resolved config is saved with every run and checkpoint.
import ECDP
import Foundation
import ProjectFiles
import Yams

public struct TrainingConfig: Sendable, Equatable, Codable {
    public struct Data: Sendable, Equatable, Codable {
        /// HR training folders (one or several, e.g. DIV2K_train_HR and Flickr2K_HR for DF2K);
        /// empty in the `paper-*` configs, which name no default dataset. YAML: a folder or a list.
        public var train: [String]
        public var trainLR: String?
        /// HR validation folder; nil when the config names none (then validation is off).
        public var validation: String?
        public var validationLR: String?
        public var scale: Int
        public var hrCrop: Int
        public var batch: Int
        public var augment: Bool

        enum CodingKeys: String, CodingKey, CaseIterable {
            case train, trainLR = "train_lr", validation, validationLR = "validation_lr", scale, hrCrop = "hr_crop", batch, augment
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if let folder = try? c.decode(String.self, forKey: .train) {
                train = [folder]
            } else {
                train = try c.decodeIfPresent([String].self, forKey: .train) ?? []
            }
            trainLR = try c.decodeIfPresent(String.self, forKey: .trainLR)
            validation = try c.decodeIfPresent(String.self, forKey: .validation)
            validationLR = try c.decodeIfPresent(String.self, forKey: .validationLR)
            scale = try c.decode(Int.self, forKey: .scale)
            hrCrop = try c.decode(Int.self, forKey: .hrCrop)
            batch = try c.decode(Int.self, forKey: .batch)
            augment = try c.decode(Bool.self, forKey: .augment)
        }
    }
    public struct Optimizer: Sendable, Equatable, Codable {
        public var lr: Double
        public var rrdbLR: Double
        public var warmupSteps: Int
        public var milestones: [Int]
        public var decay: Double
        public var clipValue: Double
        public var emaHorizon: Double
        /// Gradient accumulation: each process's share of a batch is computed in this many
        /// micro-batches (less memory, the same mean gradient). Written to YAML only when not 1.
        public var accumulate: Int

        enum CodingKeys: String, CodingKey, CaseIterable {
            case lr, rrdbLR = "rrdb_lr", warmupSteps = "warmup_steps", milestones, decay, clipValue = "clip_value",
                 emaHorizon = "ema_horizon", accumulate
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            lr = try c.decode(Double.self, forKey: .lr)
            rrdbLR = try c.decode(Double.self, forKey: .rrdbLR)
            warmupSteps = try c.decode(Int.self, forKey: .warmupSteps)
            milestones = try c.decode([Int].self, forKey: .milestones)
            decay = try c.decode(Double.self, forKey: .decay)
            clipValue = try c.decode(Double.self, forKey: .clipValue)
            emaHorizon = try c.decode(Double.self, forKey: .emaHorizon)
            accumulate = try c.decodeIfPresent(Int.self, forKey: .accumulate) ?? 1
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(lr, forKey: .lr)
            try c.encode(rrdbLR, forKey: .rrdbLR)
            try c.encode(warmupSteps, forKey: .warmupSteps)
            try c.encode(milestones, forKey: .milestones)
            try c.encode(decay, forKey: .decay)
            try c.encode(clipValue, forKey: .clipValue)
            try c.encode(emaHorizon, forKey: .emaHorizon)
            if accumulate != 1 { try c.encode(accumulate, forKey: .accumulate) }
        }
    }
    public struct Schedule: Sendable, Equatable, Codable {
        public var steps: Int
        /// At most this many steps make an epoch (the official `train_epoch_clip`); an epoch
        /// also ends when the data runs out. Learning-rate milestones count these epochs.
        public var iterationsPerEpoch: Int?
        public var logEvery: Int
        public var validateEvery: Int
        public var sampleEvery: Int
        public var checkpointEvery: Int
        public var keepEvery: Int

        enum CodingKeys: String, CodingKey, CaseIterable {
            case steps, iterationsPerEpoch = "iterations_per_epoch", logEvery = "log_every", validateEvery = "validate_every",
                 sampleEvery = "sample_every", checkpointEvery = "checkpoint_every", keepEvery = "keep_every"
        }
    }
    public struct Sampling: Sendable, Equatable, Codable {
        public var validationCrop: Int
        public var gridImages: Int
        public var gridSteps: Int
        /// The sampler of the validation quality metrics (PSNR, SSIM, LR-PSNR of EMA samples).
        public var validationSolver: String
        /// τ of the validation samples' starting noise (0: x_T = 0, the mean-like sample).
        public var validationTemperature: Double
        /// LPIPS network of the validation metrics (alex, vgg, squeeze), nil for none.
        public var validationLPIPS: String?
        /// Its backbone file (default: torchvision's cache).
        public var lpipsBackbone: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case validationCrop = "validation_crop", gridImages = "grid_images", gridSteps = "grid_steps",
                 validationSolver = "validation_solver", validationTemperature = "validation_temperature",
                 validationLPIPS = "validation_lpips", lpipsBackbone = "lpips_backbone"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            validationCrop = try c.decode(Int.self, forKey: .validationCrop)
            gridImages = try c.decode(Int.self, forKey: .gridImages)
            gridSteps = try c.decode(Int.self, forKey: .gridSteps)
            validationSolver = try c.decodeIfPresent(String.self, forKey: .validationSolver) ?? "dpm3:20"
            validationTemperature = try c.decodeIfPresent(Double.self, forKey: .validationTemperature) ?? 0
            validationLPIPS = try c.decodeIfPresent(String.self, forKey: .validationLPIPS)
            lpipsBackbone = try c.decodeIfPresent(String.self, forKey: .lpipsBackbone)
        }
    }

    /// Fine-tuning through the probability-flow ODE (docs/design.md §5); nil for ordinary
    /// training configs. Two terms, each sampled through the adjoint solve: the feature
    /// term (`iq_weight`, the official `finetune_percep`) and the pixel term
    /// (`pixel_weight`, the official `finetune_pixel`).
    public struct Finetune: Sendable, Equatable, Codable {
        /// The feature network of the feature term.
        public enum Features: String, Sendable, Codable, CaseIterable {
            case vgg19, vgg16, alexnet
        }

        /// Weight of the feature term, mean |F(SR) − F(HR)| (0 turns it off).
        public var iqWeight: Double
        /// Weight of the pixel term, mean |SR − HR| (0 turns it off).
        public var pixelWeight: Double
        /// x_T = temperature · z of each term (official: 1 for features, 0 for pixels).
        public var iqTemperature: Double
        public var pixelTemperature: Double
        /// Weight of the score-matching loss; the official rule when unset: 0 while the
        /// feature term is on, else 1.
        public var scoreMatchingWeight: Double
        public var rtol: Double
        public var atol: Double
        public var features: Features
        /// torchvision weights for `features` (converted or `.pth`); `vgg_weights` is an alias.
        public var featureWeights: String?
        /// Without weights, the feature term runs only when this is set: a random network,
        /// Kaiming-normal initialised, and labelled "random features" everywhere.
        public var randomFeatures: Bool
        /// Feature-network channel widths divided by this (1 = the real network; > 1 only
        /// for fast tests, VGG only).
        public var vggWidthDivisor: Int
        /// Whether the fine-tuning terms also reach the RRDB encoder through ∂L/∂features.
        /// Off by default, as the official adjoint (whose parameters are the denoiser's only).
        public var encoderGradients: Bool

        enum CodingKeys: String, CodingKey, CaseIterable {
            case iqWeight = "iq_weight", pixelWeight = "pixel_weight", iqTemperature = "iq_temperature",
                 pixelTemperature = "pixel_temperature", scoreMatchingWeight = "score_matching_weight", rtol, atol,
                 features, featureWeights = "feature_weights", vggWeights = "vgg_weights", randomFeatures = "random_features",
                 vggWidthDivisor = "vgg_width_divisor", encoderGradients = "encoder_gradients"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            iqWeight = try c.decodeIfPresent(Double.self, forKey: .iqWeight) ?? 0
            pixelWeight = try c.decodeIfPresent(Double.self, forKey: .pixelWeight) ?? 0
            iqTemperature = try c.decodeIfPresent(Double.self, forKey: .iqTemperature) ?? 1
            pixelTemperature = try c.decodeIfPresent(Double.self, forKey: .pixelTemperature) ?? 0
            scoreMatchingWeight = try c.decodeIfPresent(Double.self, forKey: .scoreMatchingWeight) ?? (iqWeight > 0 ? 0 : 1)
            rtol = try c.decodeIfPresent(Double.self, forKey: .rtol) ?? 1e-3
            atol = try c.decodeIfPresent(Double.self, forKey: .atol) ?? 1e-3
            if let name = try c.decodeIfPresent(String.self, forKey: .features) {
                guard let f = Features(rawValue: name) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .features, in: c,
                        debugDescription: "'\(name)' is not one of \(Features.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                features = f
            } else {
                features = .vgg19
            }
            let weights = try c.decodeIfPresent(String.self, forKey: .featureWeights)
            let alias = try c.decodeIfPresent(String.self, forKey: .vggWeights)
            if let weights, let alias, weights != alias {
                throw DecodingError.dataCorruptedError(
                    forKey: .vggWeights, in: c,
                    debugDescription: "names '\(alias)' but its newer spelling finetune.feature_weights names '\(weights)'; keep one")
            }
            featureWeights = weights ?? alias
            randomFeatures = try c.decodeIfPresent(Bool.self, forKey: .randomFeatures) ?? false
            vggWidthDivisor = try c.decodeIfPresent(Int.self, forKey: .vggWidthDivisor) ?? 1
            encoderGradients = try c.decodeIfPresent(Bool.self, forKey: .encoderGradients) ?? false
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(iqWeight, forKey: .iqWeight)
            try c.encode(pixelWeight, forKey: .pixelWeight)
            try c.encode(iqTemperature, forKey: .iqTemperature)
            try c.encode(pixelTemperature, forKey: .pixelTemperature)
            try c.encode(scoreMatchingWeight, forKey: .scoreMatchingWeight)
            try c.encode(rtol, forKey: .rtol)
            try c.encode(atol, forKey: .atol)
            try c.encode(features.rawValue, forKey: .features)
            try c.encodeIfPresent(featureWeights, forKey: .featureWeights)
            try c.encode(randomFeatures, forKey: .randomFeatures)
            try c.encode(vggWidthDivisor, forKey: .vggWidthDivisor)
            try c.encode(encoderGradients, forKey: .encoderGradients)
        }

        /// What the feature term's network is, as every log line and metadata entry says it:
        /// "VGG19 features" only with real weights, "random features (vgg19 layout)" otherwise.
        public var featureLabel: String {
            featureWeights == nil ? "random features (\(features.rawValue) layout)" : "\(features.rawValue) features"
        }
    }

    public var name: String
    public var seed: UInt64
    public var finetune: Finetune?
    public var model: ModelConfig
    /// Pretrained encoder weights (`ecdp pretrain-rrdb` output) to start from, if any.
    public var rrdbInit: String?
    /// nil means `auto`: estimated from the training set when the run starts.
    public var sigma: Double?
    public var parametrization: Parametrization
    public var gamma: Double
    public var data: Data
    public var optimizer: Optimizer
    public var schedule: Schedule
    public var sampling: Sampling

    // The YAML nests the architecture and the diffusion settings differently from the
    // properties above: these two sections carry that layout.
    struct ModelSection: Codable {
        struct RRDB: Codable {
            var features: Int
            var growth: Int
            var blocks: Int
            var selection: [Int]

            enum CodingKeys: String, CodingKey, CaseIterable { case features, growth, blocks, selection }
        }
        var channels: [Int]
        var blocks: [Int]
        var rrdb: RRDB
        var rrdbInit: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case channels, blocks, rrdb, rrdbInit = "rrdb_init" }
    }

    struct DiffusionSection: Codable {
        /// nil is `auto`.
        var sigma: Double?
        var parametrization: Parametrization
        var gamma: Double

        enum CodingKeys: String, CodingKey, CaseIterable { case sigma, parametrization, gamma }

        init(sigma: Double?, parametrization: Parametrization, gamma: Double) {
            self.sigma = sigma
            self.parametrization = parametrization
            self.gamma = gamma
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if (try? c.decode(String.self, forKey: .sigma)) == "auto" {
                sigma = nil
            } else {
                sigma = try c.decode(Double.self, forKey: .sigma)
            }
            let name = try c.decode(String.self, forKey: .parametrization)
            guard let p = Parametrization(rawValue: name) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .parametrization, in: c,
                    debugDescription: "'\(name)' is not one of \(Parametrization.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            parametrization = p
            gamma = try c.decode(Double.self, forKey: .gamma)
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            if let sigma { try c.encode(sigma, forKey: .sigma) } else { try c.encode("auto", forKey: .sigma) }
            try c.encode(parametrization.rawValue, forKey: .parametrization)
            try c.encode(gamma, forKey: .gamma)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, seed, model, diffusion, data, optimizer, schedule, sampling, finetune
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        seed = try c.decode(UInt64.self, forKey: .seed)
        let m = try c.decode(ModelSection.self, forKey: .model)
        model = ModelConfig(channels: m.channels, blocks: m.blocks, rrdbFeatures: m.rrdb.features, rrdbGrowth: m.rrdb.growth,
                            rrdbBlocks: m.rrdb.blocks, rrdbSelection: m.rrdb.selection)
        rrdbInit = m.rrdbInit
        let d = try c.decode(DiffusionSection.self, forKey: .diffusion)
        (sigma, parametrization, gamma) = (d.sigma, d.parametrization, d.gamma)
        data = try c.decode(Data.self, forKey: .data)
        optimizer = try c.decode(Optimizer.self, forKey: .optimizer)
        schedule = try c.decode(Schedule.self, forKey: .schedule)
        sampling = try c.decode(Sampling.self, forKey: .sampling)
        finetune = try c.decodeIfPresent(Finetune.self, forKey: .finetune)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(seed, forKey: .seed)
        try c.encode(ModelSection(channels: model.channels, blocks: model.blocks,
                                  rrdb: .init(features: model.rrdbFeatures, growth: model.rrdbGrowth, blocks: model.rrdbBlocks,
                                              selection: model.rrdbSelection),
                                  rrdbInit: rrdbInit), forKey: .model)
        try c.encode(DiffusionSection(sigma: sigma, parametrization: parametrization, gamma: gamma), forKey: .diffusion)
        try c.encode(data, forKey: .data)
        try c.encode(optimizer, forKey: .optimizer)
        try c.encode(schedule, forKey: .schedule)
        try c.encode(sampling, forKey: .sampling)
        try c.encodeIfPresent(finetune, forKey: .finetune)
    }

    /// The checks decoding cannot make, each naming its key; the first problem is thrown.
    func validate(source: String) throws {
        var problems: [String] = model.problems
        func require(_ ok: Bool, _ key: String, _ rule: String, _ value: Any) {
            if !ok { problems.append("'\(key)' must be \(rule), got \(value)") }
        }
        if let sigma { require(sigma > 0, "diffusion.sigma", "greater than 0 (or auto)", sigma) }
        require(gamma > 0, "diffusion.gamma", "greater than 0", gamma)
        require(data.scale >= 1, "data.scale", "at least 1", data.scale)
        require(data.hrCrop >= 1, "data.hr_crop", "at least 1", data.hrCrop)
        require(data.batch >= 1, "data.batch", "at least 1", data.batch)
        require(optimizer.lr > 0, "optimizer.lr", "greater than 0", optimizer.lr)
        require(optimizer.rrdbLR >= 0, "optimizer.rrdb_lr", "at least 0", optimizer.rrdbLR)
        require(optimizer.warmupSteps >= 1, "optimizer.warmup_steps", "at least 1", optimizer.warmupSteps)
        require(optimizer.decay > 0, "optimizer.decay", "greater than 0", optimizer.decay)
        require(optimizer.clipValue > 0, "optimizer.clip_value", "greater than 0", optimizer.clipValue)
        require(optimizer.emaHorizon >= 1, "optimizer.ema_horizon", "at least 1 step", optimizer.emaHorizon)
        require(optimizer.accumulate >= 1, "optimizer.accumulate", "at least 1", optimizer.accumulate)
        require(data.batch % optimizer.accumulate == 0, "data.batch", "a multiple of optimizer.accumulate (\(optimizer.accumulate))", data.batch)
        require(schedule.steps >= 1, "schedule.steps", "at least 1", schedule.steps)
        if let n = schedule.iterationsPerEpoch { require(n >= 1, "schedule.iterations_per_epoch", "at least 1", n) }
        require(schedule.logEvery >= 1, "schedule.log_every", "at least 1", schedule.logEvery)
        require(schedule.validateEvery >= 0, "schedule.validate_every", "at least 0", schedule.validateEvery)
        require(schedule.sampleEvery >= 0, "schedule.sample_every", "at least 0", schedule.sampleEvery)
        require(schedule.checkpointEvery >= 1, "schedule.checkpoint_every", "at least 1", schedule.checkpointEvery)
        require(schedule.keepEvery >= 0, "schedule.keep_every", "at least 0", schedule.keepEvery)
        require(sampling.validationCrop >= 1, "sampling.validation_crop", "at least 1", sampling.validationCrop)
        require(sampling.gridImages >= 1, "sampling.grid_images", "at least 1", sampling.gridImages)
        require(sampling.gridSteps >= 1, "sampling.grid_steps", "at least 1", sampling.gridSteps)
        require(sampling.validationTemperature >= 0, "sampling.validation_temperature", "at least 0", sampling.validationTemperature)
        do { _ = try Sampler.parse(sampling.validationSolver) } catch {
            problems.append("sampling.validation_solver: \(error)")
        }
        if let net = sampling.validationLPIPS, !["alex", "vgg", "squeeze"].contains(net) {
            problems.append("'sampling.validation_lpips' must be alex, vgg or squeeze, got \(net)")
        }
        if let f = finetune {
            require(f.iqWeight >= 0, "finetune.iq_weight", "at least 0", f.iqWeight)
            require(f.scoreMatchingWeight >= 0, "finetune.score_matching_weight", "at least 0", f.scoreMatchingWeight)
            require(f.rtol > 0, "finetune.rtol", "greater than 0", f.rtol)
            require(f.atol > 0, "finetune.atol", "greater than 0", f.atol)
            require(f.pixelWeight >= 0, "finetune.pixel_weight", "at least 0", f.pixelWeight)
            require(f.iqTemperature >= 0, "finetune.iq_temperature", "at least 0", f.iqTemperature)
            require(f.pixelTemperature >= 0, "finetune.pixel_temperature", "at least 0", f.pixelTemperature)
            require(f.vggWidthDivisor >= 1, "finetune.vgg_width_divisor", "at least 1", f.vggWidthDivisor)
            if f.iqWeight == 0, f.pixelWeight == 0, f.scoreMatchingWeight == 0 {
                problems.append("finetune: iq_weight, pixel_weight and score_matching_weight are all 0 — nothing to train")
            }
            if f.vggWidthDivisor > 1, f.features == .alexnet {
                problems.append("finetune.vgg_width_divisor applies to VGG only; features is alexnet")
            }
        }
        if data.trainLR != nil, data.train.count > 1 {
            problems.append("data.train_lr pairs LR images with one HR folder, but data.train lists \(data.train.count)")
        }
        if data.scale >= 1, data.hrCrop % data.scale != 0 {
            problems.append("data.hr_crop \(data.hrCrop) is not a multiple of data.scale \(data.scale)")
        }
        if data.scale >= 1, sampling.validationCrop % data.scale != 0 {
            problems.append("sampling.validation_crop \(sampling.validationCrop) is not a multiple of data.scale \(data.scale)")
        }
        if let first = problems.first { throw ConfigError("\(source): \(first)") }
    }

    /// Why this config cannot fine-tune yet (checked when a run starts, not when a config is
    /// read, so the paper recipes parse without weights on disk); nil when it can.
    public var finetuneProblem: String? {
        guard let f = finetune, f.iqWeight > 0, f.featureWeights == nil, !f.randomFeatures else { return nil }
        return "finetune.iq_weight is \(f.iqWeight) but no feature network weights are set: give finetune.feature_weights "
            + "(torchvision \(f.features.rawValue), see docs/checkpoints.md), or set finetune.random_features: true "
            + "for a random network (labelled so), or finetune.iq_weight: 0 to keep only the pixel term"
    }

    /// How this (fine-tuning) config's diffusion differs from its parent's — parametrization,
    /// γ, σ — each naming both values; empty when it continues the parent's.
    public func diffusionDifferences(fromParent parent: TrainingConfig) -> [String] {
        var differences: [String] = []
        if parent.parametrization != parametrization {
            differences.append("diffusion.parametrization: parent \(parent.parametrization.rawValue), fine-tune \(parametrization.rawValue)")
        }
        if parent.gamma != gamma { differences.append("diffusion.gamma: parent \(parent.gamma), fine-tune \(gamma)") }
        if let a = parent.sigma, let b = sigma, Float(a) != Float(b) {
            differences.append("diffusion.sigma: parent \(a), fine-tune \(b)")
        }
        return differences
    }

    /// The config as YAML (what a run folder and a checkpoint keep): numbers in their
    /// shortest exact form, lists of numbers on one line.
    public var yaml: String {
        // Encoding and re-reading plain structs of strings and numbers cannot fail.
        let encoded = try! YAMLEncoder().encode(self)
        return try! Yams.serialize(node: Self.tidied(try! Yams.compose(yaml: encoded)!))
    }

    /// Yams writes 0.2 as 2e-1 and every list item on its own line; Swift's shortest
    /// round-trip form of each float and flow-style scalar lists read better, same values.
    static func tidied(_ node: Node) -> Node {
        switch node {
        case let .scalar(scalar):
            // A plain (unquoted) non-integer number is a float; strings that look like numbers are quoted.
            guard scalar.style == .plain, Int(scalar.string) == nil, let value = Double(scalar.string) else { return node }
            return Node("\(value)", Tag(.float))
        case let .mapping(mapping):
            return Node(mapping.map { ($0.key, tidied($0.value)) }, mapping.tag, mapping.style)
        case let .sequence(sequence):
            let items = sequence.map(tidied)
            let scalars = items.allSatisfy { $0.scalar != nil }
            return Node(items, sequence.tag, scalars ? .flow : sequence.style)
        case .alias:
            return node
        }
    }
}

extension TrainingConfig {
    /// The model this config describes — the one place an `ECDPModel` is built from a config:
    /// σ as given, else the config's (0.2 while `auto` is unresolved), weights initialised from
    /// `seed` (default: the config's).
    public func makeModel(sigma: Float? = nil, seed: UInt64? = nil) -> ECDPModel {
        ECDPModel(config: model,
                  diffusion: Diffusion(sigma: sigma ?? self.sigma.map(Float.init) ?? 0.2, parametrization: parametrization, gamma: gamma),
                  seed: seed ?? self.seed)
    }

    /// The training set, or an error saying how to name one (the `paper-*` configs name none).
    public func trainingDataset() throws -> SRDataset {
        guard !data.train.isEmpty else {
            throw ConfigError("\(name): no training data (data.train is empty). Point it at the HR images, e.g. "
                + "--set data.train=[/data/DIV2K_train_HR,/data/Flickr2K_HR] for DF2K (×4), a CelebA or ImageNet HR folder "
                + "for paper-celeba / paper-imagenet, and --set data.validation=/data/DIV2K_valid_HR (see docs/training.md)")
        }
        // Relative folders that are not under the current directory may be the repository's
        // own (the demo photographs), wherever the tool runs from.
        return try SRDataset(hrFolders: data.train.map { ProjectFiles.resolve($0) }, lrFolder: data.trainLR.map { ProjectFiles.resolve($0) },
                             scale: data.scale)
    }

    /// The training crops in their deterministic order, epochs cut at `schedule.iterations_per_epoch`.
    public func trainingBatches() throws -> TrainingBatches {
        try TrainingBatches(dataset: trainingDataset(), batchSize: data.batch, cropSize: data.hrCrop, seed: seed,
                            augment: data.augment, epochLimit: schedule.iterationsPerEpoch)
    }
}
