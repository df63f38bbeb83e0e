// LPIPS against the `lpips` package itself (Tests/Fixtures/generate_lpips_fixtures.py):
// torchvision backbones with formula weights (AlexNet, VGG16 rebuilt here from the same
// integer formula; SqueezeNet 1.1 read from the torchvision-layout .pth the script saved),
// the real shipped v0.1 heads, three image sizes. This checks the computation, not
// ImageNet weights (which cannot be downloaded here).
import Checkpoints
import Foundation
import Grad
import TestSupport
import Testing
@testable import Evaluation

/// The fixture script's formula: a 32-bit integer hash of (seed, i) over 2^32, exact in Double.
func formulaUniforms(seed: UInt32, count: Int) -> [Double] {
    (0..<count).map { i in
        var x = UInt32(truncatingIfNeeded: UInt64(i) &* 0x9E37_79B9 &+ UInt64(seed))
        x ^= x >> 16
        x = x &* 0x85EB_CA6B
        x ^= x >> 13
        x = x &* 0xC2B2_AE35
        x ^= x >> 16
        return Double(x) / 4_294_967_296
    }
}

func fnv1a(_ text: String) -> UInt32 {
    text.utf8.reduce(0x811C_9DC5 as UInt32) { ($0 ^ UInt32($1)) &* 0x0100_0193 }
}

func formulaWeight(_ name: String, shape: [Int]) -> Tensor {
    let count = shape.reduce(1, *)
    let bound = shape.count > 1 ? (6.0 / Double(shape.dropFirst().reduce(1, *))).squareRoot() : 0.1
    return Tensor(formulaUniforms(seed: fnv1a(name), count: count).map { Float((2 * $0 - 1) * bound) }, shape: shape)
}

func formulaImage(seed: UInt32, height: Int, width: Int) -> Tensor {
    Tensor(formulaUniforms(seed: seed, count: 3 * height * width).map { Float($0) }, shape: [1, 3, height, width])
}

@Suite("LPIPS")
struct LPIPSTests {
    struct Case: Decodable {
        let net: String
        let height: Int
        let width: Int
        let image_seeds: [UInt32]
        let lpips: Double
    }

    static let cases: [Case] = {
        struct File: Decodable { let cases: [Case] }
        let data = try! Data(contentsOf: URL(fileURLWithPath: FixturePaths.path("Tests/Fixtures/lpips/lpips_reference.json")))
        return try! JSONDecoder().decode(File.self, from: data).cases
    }()

    func backbone(_ network: LPIPSNetwork) throws -> [String: Tensor] {
        if network == .squeeze {
            return try LPIPSWeights.tensors(FixturePaths.path("Tests/Fixtures/lpips/squeezenet1_1-formula-f16.pth"))
        }
        return network.makeBackbone().stateDict().mapValues { $0 }.reduce(into: [:]) { out, entry in
            out[entry.key] = formulaWeight(entry.key, shape: entry.value.shape)
        }
    }

    func heads(_ network: LPIPSNetwork) throws -> [String: Tensor] {
        try LPIPSWeights.tensors(FixturePaths.path("Checkpoints/lpips/\(network).safetensors"))
    }

    @Test(arguments: LPIPSNetwork.allCases)
    func matchesTheLPIPSPackage(network: LPIPSNetwork) throws {
        let metric = try LPIPS(network: network, backbone: try backbone(network), heads: try heads(network))
        let mine = Self.cases.filter { $0.net == network.rawValue }
        #expect(mine.count == 3)
        for c in mine {
            let a = formulaImage(seed: c.image_seeds[0], height: c.height, width: c.width)
            let b = (a * 0.7 + formulaImage(seed: c.image_seeds[1], height: c.height, width: c.width) * 0.3).clamped(to: 0, 1)
            let d = Double(metric.distance(a.reshaped([3, c.height, c.width]), b.reshaped([3, c.height, c.width])))
            #expect(abs(d - c.lpips) < 1e-6 + 1e-4 * c.lpips, "\(network) \(c.width)×\(c.height): \(d) vs lpips \(c.lpips)")
            // Identical images are at distance 0; batches give each pair's distance.
            #expect(metric.distance(a.reshaped([3, c.height, c.width]), a.reshaped([3, c.height, c.width])) == 0)
        }
    }

    @Test func batchedEqualsOneByOne() throws {
        let metric = try LPIPS(network: .alex, backbone: try backbone(.alex), heads: try heads(.alex))
        let a = formulaImage(seed: 1, height: 40, width: 40), b = formulaImage(seed: 2, height: 40, width: 40)
        let batch = metric.distances(Tensor.concatenate([a, b], axis: 0), Tensor.concatenate([b, a], axis: 0))
        let single = metric.distances(a, b)[0]
        #expect(abs(batch[0] - single) < 1e-6 && abs(batch[1] - single) < 1e-6)
    }

    @Test func missingOrWrongWeightsAreNamed() throws {
        var partial = try backbone(.alex)
        partial["features.3.weight"] = nil
        #expect { try LPIPS(network: .alex, backbone: partial, heads: try heads(.alex)) } throws: {
            "\($0)".contains("lack 1 of the 10 torchvision features.* tensors (e.g. features.3.weight)")
        }
        #expect { try LPIPS(network: .vgg, backbone: try backbone(.vgg), heads: try heads(.alex)) } throws: {
            "\($0)" == "the LPIPS vgg head 1 has shape [1, 192, 1, 1], expected [1, 128, 1, 1]"
        }
        #expect(throws: LPIPSError("/nonexistent.pth: no such backbone file")) {
            try LPIPSWeights.load(.alex, backbone: "/nonexistent.pth")
        }
        // No backbone anywhere: a one-line reason naming the flag and torchvision's cache.
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("no-torch-home").path
        #expect(try LPIPSWeights.backbonePath(.vgg, explicit: nil, environment: ["TORCH_HOME": empty]) == nil)
        #expect(LPIPSWeights.torchvisionCache(environment: ["XDG_CACHE_HOME": "/c"]) == "/c/torch/hub/checkpoints")
    }
}
