// Key maps between other projects' parameter names and ours. This folder is the only
// place in the project that knows PyTorch-side names.

/// A conversion of an archive's tensor names in both directions. Most maps rename tensor
/// by tensor; the official ECDP map first recognises which of the official files it has.
public struct KeyMap: Sendable {
    public let name: String
    let toOurs: @Sendable (TensorArchive) throws -> TensorArchive
    let toTheirs: @Sendable (TensorArchive) throws -> TensorArchive

    public static let all: [KeyMap] = [.ecdpOfficial, .emaWeights, .torchvisionVGG19, .torchvisionAlexNet, .lpips]

    public static func named(_ name: String) -> KeyMap? { all.first { $0.name == name } }

    /// Converts an archive's names (toward ours, or back with `towardOurs: false`).
    /// Throws a `KeyMapError` when the archive is not in a layout the map knows.
    public func apply(_ archive: TensorArchive, towardOurs: Bool = true) throws -> TensorArchive {
        try (towardOurs ? toOurs : toTheirs)(archive)
    }

    /// A map that renames each tensor on its own; `nil` drops a name.
    static func renaming(name: String, toOurs: @escaping @Sendable (String) -> String?,
                         toTheirs: @escaping @Sendable (String) -> String?) -> KeyMap {
        func rename(_ f: @escaping @Sendable (String) -> String?) -> @Sendable (TensorArchive) -> TensorArchive {
            { archive in
                var out = TensorArchive(metadata: archive.metadata)
                out.tensors = archive.tensors.compactMap { n, t in f(n).map { ($0, t) } }
                return out
            }
        }
        return KeyMap(name: name, toOurs: rename(toOurs), toTheirs: rename(toTheirs))
    }
}

/// An archive in none of the layouts a map knows: what was tried and what was found.
public struct KeyMapError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    init(map: String, tried: [String], found names: [String]) {
        let sample = names.prefix(6).map { "'\($0)'" }.joined(separator: ", ")
        message = "--map \(map): no known layout matches. Tried: \(tried.joined(separator: "; ")). "
            + "Found \(names.count) tensors\(names.isEmpty ? "" : ", e.g. \(sample)")"
    }
}

extension KeyMap {
    /// This project's training state (`RUN/checkpoint.h5`): the EMA weights
    /// `ema/<path>` → `<path>`; raw weights and optimizer state dropped. The saved
    /// config stays in the metadata (`meta/config_yaml`), so the result is a
    /// self-describing inference checkpoint.
    public static let emaWeights = renaming(
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
        return renaming(name: name, toOurs: keep, toTheirs: keep)
    }

    /// The LPIPS v0.1 linear heads (`lpips` package weights): `lin<k>.model.1.weight`
    /// ↔ `heads.<k>.weight`, shape [1, C, 1, 1].
    public static let lpips = renaming(
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
