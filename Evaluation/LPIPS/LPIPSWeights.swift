// Where LPIPS's weights come from. The linear heads are shipped (`Checkpoints/lpips/`,
// BSD-2-Clause, converted from the `lpips` 0.1.4 wheel). The ImageNet backbones cannot be
// shipped or downloaded here: the user names a file (a torchvision `.pth` state dict, or
// safetensors with the same `features.*` names), or has torchvision's cache, where
// `torchvision.models.<net>(weights=…)` puts them.
import Checkpoints
import Foundation
import ProjectFiles
import Grad

public enum LPIPSWeights {
    /// torchvision's cache: `$TORCH_HOME/hub/checkpoints/`, with TORCH_HOME defaulting to
    /// `$XDG_CACHE_HOME/torch`, then `~/.cache/torch` (as `torch.hub.get_dir()`).
    public static func torchvisionCache(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let torchHome = environment["TORCH_HOME"]
            ?? environment["XDG_CACHE_HOME"].map { ($0 as NSString).appendingPathComponent("torch") }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/torch")
        return (torchHome as NSString).appendingPathComponent("hub/checkpoints")
    }

    /// The backbone file to use: `explicit` when given (it must exist), else torchvision's
    /// cached file when present, else nil.
    public static func backbonePath(_ network: LPIPSNetwork, explicit: String?,
                                    environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        if let explicit {
            guard FileManager.default.fileExists(atPath: explicit) else { throw LPIPSError("\(explicit): no such backbone file") }
            return explicit
        }
        let cached = (torchvisionCache(environment: environment) as NSString).appendingPathComponent(network.torchvisionFileName)
        return FileManager.default.fileExists(atPath: cached) ? cached : nil
    }

    /// The shipped heads: `Checkpoints/lpips/<net>.safetensors` under the working directory
    /// or the repository's folder (ProjectFiles).
    public static func headsPath(_ network: LPIPSNetwork) -> String? {
        ProjectFiles.locate("Checkpoints/lpips/\(network).safetensors")
    }

    /// LPIPS with `network`, its backbone from `backbone` (or torchvision's cache) and the
    /// shipped heads (or `heads`). Throws an `LPIPSError` saying what is missing.
    public static func load(_ network: LPIPSNetwork, backbone: String? = nil, heads: String? = nil) throws -> LPIPS {
        guard let backbonePath = try backbonePath(network, explicit: backbone) else {
            throw LPIPSError("no \(network) backbone: pass --lpips-backbone FILE (torchvision's \(network.torchvisionFileName)) "
                + "or put it in \(torchvisionCache())")
        }
        guard let headsPath = heads ?? headsPath(network) else {
            throw LPIPSError("the LPIPS \(network) heads (Checkpoints/lpips/\(network).safetensors) are not under the working directory")
        }
        return try LPIPS(network: network, backbone: try tensors(backbonePath), heads: try tensors(headsPath))
    }

    static func tensors(_ path: String) throws -> [String: Tensor] {
        let archive: TensorArchive
        do { archive = try CheckpointFormat.read(path) } catch { throw LPIPSError("\(error)") }
        return Dictionary(archive.tensors.map { ($0.name, $0.tensor.floatTensor()) }, uniquingKeysWith: { a, _ in a })
    }
}
