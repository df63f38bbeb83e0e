// What an evaluation run is: the model (by name and SHA-256), the protocol, the solvers,
// temperatures or a fixed x_T, and the seeds. Saved as `<out>/settings.json` so a rerun
// of the same command resumes, and a rerun with another model or protocol is refused.
import Crypto
import ECDP
import Foundation

public struct EvaluationSettings: Sendable, Equatable, Codable {
    public var checkpointName: String
    public var checkpointSHA256: String
    public var parameters: Int
    public var protocolName: String
    public var scale: Int
    /// The LPIPS network, or nil when LPIPS is not computed.
    public var lpipsNetwork: String?
    /// `--solver` texts (`Sampler.parse` syntax) and `bicubic`, the model's μ(y) baseline.
    public var solvers: [String]
    public var temperatures: [Double]
    public var seeds: [UInt64]
    /// The file name of a fixed starting noise x_T, or nil for x_T ~ N(0, τ²I) per seed.
    public var startingNoise: String?
    /// How x_T fits images of another size (`StartingNoisePolicy` raw value).
    public var startingNoisePolicy: String?
    public var limit: Int?

    public init(checkpointName: String, checkpointSHA256: String, parameters: Int, protocolName: String, scale: Int,
                lpipsNetwork: String?, solvers: [String], temperatures: [Double], seeds: [UInt64], startingNoise: String?,
                startingNoisePolicy: String? = nil, limit: Int?) {
        self.checkpointName = checkpointName
        self.checkpointSHA256 = checkpointSHA256
        self.parameters = parameters
        self.protocolName = protocolName
        self.scale = scale
        self.lpipsNetwork = lpipsNetwork
        self.solvers = solvers
        self.temperatures = temperatures
        self.seeds = seeds
        self.startingNoise = startingNoise
        self.startingNoisePolicy = startingNoisePolicy
        self.limit = limit
    }

    enum CodingKeys: String, CodingKey {
        case checkpointName = "checkpoint", checkpointSHA256 = "checkpoint_sha256", parameters = "params",
             protocolName = "protocol", scale, lpipsNetwork = "lpips_net", solvers, temperatures, seeds,
             startingNoise = "x_t", startingNoisePolicy = "x_t_policy", limit
    }

    /// The name of the pseudo-solver that writes μ(y), the bicubic baseline.
    public static let bicubic = "bicubic"

    /// Checks the solver texts (`bicubic` or `Sampler.parse` syntax); an error names the first bad one.
    public static func checkSolvers(_ texts: [String]) throws {
        for text in texts where text != bicubic { _ = try Sampler.parse(text) }
    }

    /// Whether an earlier run in the same folder measured the same thing (so its rows can be
    /// reused): same model bytes, protocol, scale and LPIPS network.
    func isCompatible(with earlier: EvaluationSettings) -> Bool {
        checkpointSHA256 == earlier.checkpointSHA256 && protocolName == earlier.protocolName && scale == earlier.scale
            && lpipsNetwork == earlier.lpipsNetwork && startingNoise == earlier.startingNoise
            && startingNoisePolicy == earlier.startingNoisePolicy
    }
}

/// SHA-256 of a file, read in 4 MiB chunks (checkpoints can be hundreds of MB).
public func sha256(ofFile path: String) throws -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else { throw EvaluationInputError("\(path): cannot read") }
    defer { try? handle.close() }
    var hasher = SHA256()
    while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
    return hasher.finalize().map { String(format: "%02x", $0) }.joined()
}
