// Starting a fine-tune from a parent checkpoint: the checks that make a parent usable
// (same architecture, same diffusion; σ: auto inherits the parent's) and the start from its
// EMA weights, with the parent's path and SHA-256 recorded in every checkpoint. Used by
// `ecdp finetune` and by the table orchestration.
import Distributed
import ECDP
import Evaluation
import Foundation

extension Trainer {
    /// Starts a fine-tune of `parent` (a training state or an exported model) with `config`,
    /// which must have a `finetune` section, in the new run folder `runDirectory`.
    public static func startFinetune(config: TrainingConfig, parent: String, runDirectory: String,
                                     communicator: Communicator = SingleProcess()) throws -> Trainer {
        var cfg = config
        guard cfg.finetune != nil else {
            throw TrainingFailure(message: "\(cfg.name) has no `finetune` section; use e.g. --config small-finetune")
        }
        let (parentModel, parentConfig) = try InferenceModel.load(checkpoint: parent, config: cfg)
        guard parentConfig.model == cfg.model else {
            throw TrainingFailure(message: "the parent's architecture (\(parentConfig.name)) differs from \(cfg.name)'s model section")
        }
        if cfg.sigma == nil { cfg.sigma = parentConfig.sigma }  // σ: auto inherits the parent's
        let differences = cfg.diffusionDifferences(fromParent: parentConfig)
        if !differences.isEmpty {
            throw TrainingFailure(message: "the parent \(parent) was trained with another diffusion than \(cfg.name): "
                + differences.joined(separator: "; ") + " — set the fine-tune's values to the parent's (--set …)")
        }
        return try start(config: cfg, runDirectory: runDirectory, initialWeights: parentModel.stateDict(),
                         parent: "\(parent) sha256:\(try sha256(ofFile: parent))", communicator: communicator)
    }
}
