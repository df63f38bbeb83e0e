// The files the official ECDP code (Yuan-Yutao/ECDP) writes, and the `ecdp-official` key map.
//
// The official `make_model` wraps the network in a `ConditionalDensityModel` whose
// submodule is `model`, and `Trainer.save_state` stores that wrapper's state dict under
// `model` (raw weights) and `model_avg` (EMA, when `param_running_avg` is set), so a
// training checkpoint holds `model.model.diffusion.network.*`, `model_avg.model.lr_feats.*`,
// … beside `optim_model`, `sched_model`, `sample_fixed_latent`, `epoch` and `epoch_length`.
// The RRDBNet stage writes the same wrapper around `RRDBNet` (`model.model.rrdb.*`,
// `model.model.final.*`), and the official README extracts `pretrained-rrdbnet-*.pt` from
// it by stripping the first `model.` (`rrdb.*`, `final.*`).
import Foundation
import Grad
import GradNN

/// Which official file an archive is.
public struct OfficialECDPLayout: Sendable, Equatable {
    public enum Network: Sendable { case ecdp, rrdbNet }
    public let network: Network
    /// The prefix the weights sit under (`model_avg.model.`, `model.model.`, `model.` or none).
    public let prefix: String
    /// One line for the user: what the file is and which weights were taken.
    public let summary: String

    /// Prefixes of the official writers, most specific first, with what each one is.
    static let candidates: [(prefix: String, what: String)] = [
        ("model_avg.model.", "training checkpoint, EMA weights (model_avg)"),
        ("model.model.", "training checkpoint, raw weights (model; the file has no model_avg)"),
        ("model.", "ConditionalDensityModel state dict"),
        ("", "bare state dict"),
    ]

    /// Recognises the layout from the tensor names, or nil.
    public static func detect(_ names: [String]) -> OfficialECDPLayout? {
        for (network, marker, label) in [(Network.ecdp, "diffusion.network.", "ECDP"), (.rrdbNet, "rrdb.", "RRDBNet")] {
            for c in candidates where names.contains(where: { $0.hasPrefix(c.prefix + marker) }) {
                return OfficialECDPLayout(network: network, prefix: c.prefix, summary: "official \(label) \(c.what)")
            }
        }
        return nil
    }

    static let triedDescription = [
        "official ECDP training checkpoint (model_avg.model.diffusion.network.*, model.model.diffusion.network.*)",
        "ECDP state dict (model.diffusion.network.* or diffusion.network.*)",
        "official RRDBNet checkpoint (model.model.rrdb.*) or extracted pretrained-rrdbnet file (rrdb.*, final.*)",
    ]

    /// The official diffusion buffers (`Diffusion.__init__`: ᾱ(t) = exp(−t(t(β_max − β_min)/2 + β_min))
    /// on t = k/300, k = 0…300, then α_k = ᾱ_{k+1}/ᾱ_k, β = 1 − α), in Float as torch computes them.
    static func diffusionBuffers() -> (betas: [Float], alphas: [Float], alphaBars: [Float]) {
        let span = Float(20.0 - 0.1), betaMin = Float(0.1)
        let ext = (0...300).map { k -> Float in let t = Float(k) / 300; return exp(-t * (t * span / 2 + betaMin)) }
        let alphas = (0..<300).map { ext[$0 + 1] / ext[$0] }
        return (alphas.map { 1 - $0 }, alphas, Array(ext.dropFirst()))
    }
}

extension KeyMap {
    /// Official ECDP files ↔ ours. Toward ours: every layout `OfficialECDPLayout` knows;
    /// an ECDP network becomes `unet.*` (from `diffusion.network.*`) and `rrdb.*` (from
    /// `lr_feats.*`), an RRDBNet keeps `rrdb.*` and `final.*` (our RRDBNet has the official
    /// names); the EMA weights when the file has them; `sample_fixed_latent` kept; raw
    /// weights beside EMA ones, optimizer and scheduler state and the diffusion buffers
    /// (which this project computes) dropped. The metadata's `converted_from` says which
    /// layout and weights were taken.
    /// Back: the names a `ConditionalDensityModel` loads strictly (`model.diffusion.network.*`,
    /// `model.lr_feats.*` and the three diffusion buffers), or for an RRDBNet the extracted
    /// `pretrained-rrdbnet` layout (`rrdb.*`, `final.*`). EMA weights (`ema/…`) are taken when
    /// the input is one of our training states.
    public static let ecdpOfficial = KeyMap(
        name: "ecdp-official",
        toOurs: { archive in
            let names = archive.tensors.map(\.name)
            guard let layout = OfficialECDPLayout.detect(names) else {
                throw KeyMapError(map: "ecdp-official", tried: OfficialECDPLayout.triedDescription, found: names)
            }
            var out = TensorArchive(metadata: archive.metadata)
            out.metadata["converted_from"] = layout.summary
            for (name, t) in archive.tensors {
                if name == "sample_fixed_latent" { out.tensors.append((name, t)); continue }
                guard name.hasPrefix(layout.prefix) else { continue }
                let rest = String(name.dropFirst(layout.prefix.count))
                switch layout.network {
                case .ecdp:
                    if rest.hasPrefix("diffusion.network.") { out.tensors.append(("unet." + rest.dropFirst("diffusion.network.".count), t)) }
                    else if rest.hasPrefix("lr_feats.") { out.tensors.append(("rrdb." + rest.dropFirst("lr_feats.".count), t)) }
                case .rrdbNet:
                    if rest.hasPrefix("rrdb.") || rest.hasPrefix("final.") { out.tensors.append((rest, t)) }
                }
            }
            return out
        },
        toTheirs: { archive in
            let hasEMA = archive.tensors.contains { $0.name.hasPrefix("ema/") }
            let weights: [(name: String, tensor: RawTensor)] = archive.tensors.compactMap { name, t in
                if hasEMA { return name.hasPrefix("ema/") ? (String(name.dropFirst(4)), t) : nil }
                return (name, t)
            }
            var out = TensorArchive()
            if weights.contains(where: { $0.name.hasPrefix("final.") }) {
                out.tensors = weights.filter { $0.name.hasPrefix("rrdb.") || $0.name.hasPrefix("final.") }
                return out
            }
            for (name, t) in weights {
                if name.hasPrefix("unet.") { out.tensors.append(("model.diffusion.network." + name.dropFirst(5), t)) }
                else if name.hasPrefix("rrdb.") { out.tensors.append(("model.lr_feats." + name.dropFirst(5), t)) }
            }
            guard !out.tensors.isEmpty else {
                throw KeyMapError(map: "ecdp-official --reverse",
                                  tried: ["our ECDP weights (unet.*, rrdb.*, or ema/unet.* in a training state)",
                                          "our RRDBNet (rrdb.*, final.*)"],
                                  found: archive.tensors.map(\.name))
            }
            let buffers = OfficialECDPLayout.diffusionBuffers()
            for (name, values) in [("betas", buffers.betas), ("alphas", buffers.alphas), ("alpha_bars", buffers.alphaBars)] {
                out.tensors.append(("model.diffusion." + name, RawTensor(Tensor(values, shape: [values.count]))))
            }
            return out
        })
}
