// Loading a model for inference from any checkpoint this project reads: a training
// state (`RUN/checkpoint.h5`, EMA weights), a safetensors export (weights + its config
// in the metadata), or an official ECDP checkpoint, converted or as the official code
// wrote it (`checkpoint.pt`; with `--config`, since it carries none).
import Checkpoints
import ECDP
import Foundation
import Grad

public enum InferenceModel {
    /// The model with its EMA weights, and the config it was built from. `overrides`
    /// ("diffusion.gamma=0.5") change the saved config before the model is built — sampling
    /// settings such as γ, which training does not depend on in the hybrid parametrization.
    public static func load(checkpoint path: String, config fallback: TrainingConfig? = nil,
                            overrides: [String] = []) throws -> (model: ECDPModel, config: TrainingConfig) {
        var archive = try CheckpointFormat.read(path)
        let names = archive.tensors.map(\.name)
        if !names.contains(where: { $0.hasPrefix("unet.") || $0.hasPrefix("ema/") }),
           OfficialECDPLayout.detect(names)?.network == .ecdp {
            archive = try KeyMap.ecdpOfficial.apply(archive)
        }
        let yaml = archive.metadata["meta/config_yaml"] ?? archive.metadata["config_yaml"]
        guard let config = try yaml.map({ try TrainingConfig.parse($0, source: "\(path) (saved config)", overrides: overrides) }) ?? fallback else {
            throw ConfigError("\(path) carries no config: pass --config with the architecture (e.g. --config paper-div2k)")
        }
        var weights: [String: Tensor] = [:]
        let isTrainingState = archive.tensors.contains { $0.name.hasPrefix("ema/") }
        for (name, t) in archive.tensors {
            if isTrainingState {
                if name.hasPrefix("ema/") { weights[String(name.dropFirst(4))] = t.floatTensor() }
            } else if name.hasPrefix("unet.") || name.hasPrefix("rrdb.") {
                weights[name] = t.floatTensor()
            }
        }
        // A NaN or infinity in any weight turns every output black; refuse it here, by name.
        for (name, t) in weights.sorted(by: { $0.key < $1.key }) where !t.scalars.allSatisfy(\.isFinite) {
            throw ConfigError("\(path): tensor \(name) holds non-finite values (NaN or infinity); the model cannot be used")
        }
        let model = config.makeModel()
        do { try model.load(weights) } catch {
            throw ConfigError("\(path): the weights do not fit the \(config.name) architecture: \(error)")
        }
        model.setTraining(false)
        return (model, config)
    }
}
