// `--lpips NET [--lpips-backbone FILE]` for metrics and eval: LPIPS when asked for and
// available. A backbone that is nowhere to be found is not an error (the other metrics
// still print, LPIPS is null and the reason goes to stderr); a named file that cannot be
// used is.
import ArgumentParser
import Evaluation
import Foundation

enum LPIPSOption {
    static func validate(network: String?, backbone: String?) throws {
        if let network, LPIPSNetwork(rawValue: network) == nil {
            throw ValidationError("--lpips \(network): choose one of \(LPIPSNetwork.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if backbone != nil, network == nil { throw ValidationError("--lpips-backbone needs --lpips NET") }
    }

    static func load(network name: String?, backbone: String?) throws -> LPIPS? {
        guard let network = name.flatMap(LPIPSNetwork.init(rawValue:)) else { return nil }
        if backbone == nil, try LPIPSWeights.backbonePath(network, explicit: nil) == nil {
            FileHandle.standardError.write(Data(("lpips: null — no \(network) backbone: pass --lpips-backbone FILE "
                + "(torchvision's \(network.torchvisionFileName)) or put it in \(LPIPSWeights.torchvisionCache())\n").utf8))
            return nil
        }
        return try LPIPSWeights.load(network, backbone: backbone)
    }
}
