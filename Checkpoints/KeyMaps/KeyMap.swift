// Key maps between other projects' parameter names and ours. This folder is the only
// place in the project that knows PyTorch-side names.

/// A renaming of tensor names in both directions; `nil` drops a name.
public struct KeyMap: Sendable {
    public let name: String
    public let toOurs: @Sendable (String) -> String?
    public let toTheirs: @Sendable (String) -> String?

    public static let all: [KeyMap] = [.ecdpOfficial, .emaWeights, .torchvisionVGG19, .torchvisionAlexNet, .lpips]

    public static func named(_ name: String) -> KeyMap? { all.first { $0.name == name } }

    /// Applies the map to an archive's names, dropping the unmapped ones.
    public func apply(_ archive: TensorArchive, towardOurs: Bool = true) -> TensorArchive {
        let f = towardOurs ? toOurs : toTheirs
        var out = TensorArchive(metadata: archive.metadata)
        out.tensors = archive.tensors.compactMap { n, t in f(n).map { ($0, t) } }
        return out
    }
}

extension KeyMap {
    /// The official ECDP checkpoint (Yuan-Yutao/ECDP `checkpoint.pt`, SPEC §3, §11):
    /// `model_avg.diffusion.network.X` → `unet.X` and `model_avg.lr_feats.X` → `rrdb.X`
    /// (the EMA weights, which sampling and fine-tuning start from); the same for a bare
    /// state dict (`diffusion.network.X`, `lr_feats.X`); `sample_fixed_latent` is kept.
    /// Dropped: the raw `model.*` weights, optimizer and scheduler state, and the
    /// diffusion schedule buffers (`diffusion.betas` …), which this project computes.
    public static let ecdpOfficial = KeyMap(
        name: "ecdp-official",
        toOurs: { name in
            var n = name
            if n.hasPrefix("model_avg.") { n.removeFirst("model_avg.".count) }
            else if n.hasPrefix("model.") || n.hasPrefix("optim_model.") || n.hasPrefix("sched_model.") { return nil }
            if n == "sample_fixed_latent" { return n }
            if n.hasPrefix("diffusion.network.") { return "unet." + n.dropFirst("diffusion.network.".count) }
            if n.hasPrefix("lr_feats.") { return "rrdb." + n.dropFirst("lr_feats.".count) }
            return nil
        },
        toTheirs: { name in
            if name == "sample_fixed_latent" { return name }
            if name.hasPrefix("unet.") { return "model_avg.diffusion.network." + name.dropFirst("unet.".count) }
            if name.hasPrefix("rrdb.") { return "model_avg.lr_feats." + name.dropFirst("rrdb.".count) }
            return nil
        })

    /// This project's training state (`RUN/checkpoint.h5`): the EMA weights
    /// `ema/<path>` → `<path>`; raw weights and optimizer state dropped. The saved
    /// config stays in the metadata (`meta/config_yaml`), so the result is a
    /// self-describing inference checkpoint.
    public static let emaWeights = KeyMap(
        name: "ema-weights",
        toOurs: { n in n.hasPrefix("ema/") ? String(n.dropFirst(4)) : nil },
        toTheirs: { n in "ema/" + n })

    /// torchvision `vgg19().state_dict()`: `features.N.*` for the layers of
    /// `features[:35]` (through conv5_4) keep their names; the classifier is dropped.
    public static let torchvisionVGG19 = featureMap(name: "torchvision-vgg19", lastLayer: 34)

    /// torchvision `alexnet().state_dict()`: `features.N.*` kept, classifier dropped.
    public static let torchvisionAlexNet = featureMap(name: "torchvision-alexnet", lastLayer: 12)

    static func featureMap(name: String, lastLayer: Int) -> KeyMap {
        let keep: @Sendable (String) -> String? = { n in
            let parts = n.split(separator: ".")
            guard parts.count == 3, parts[0] == "features", let i = Int(parts[1]), i <= lastLayer else { return nil }
            return n
        }
        return KeyMap(name: name, toOurs: keep, toTheirs: keep)
    }

    /// The LPIPS v0.1 linear heads (`lpips` package weights): `lin<k>.model.1.weight`
    /// ↔ `heads.<k>.weight`, shape [1, C, 1, 1].
    public static let lpips = KeyMap(
        name: "lpips",
        toOurs: { n in
            let parts = n.split(separator: ".")
            guard parts.count == 4, parts[0].hasPrefix("lin"), let k = Int(parts[0].dropFirst(3)),
                  parts[1] == "model", parts[2] == "1", parts[3] == "weight" else { return nil }
            return "heads.\(k).weight"
        },
        toTheirs: { n in
            let parts = n.split(separator: ".")
            guard parts.count == 3, parts[0] == "heads", let k = Int(parts[1]), parts[2] == "weight" else { return nil }
            return "lin\(k).model.1.weight"
        })
}
