// The pure-Swift PyTorch reader on files torch.save wrote (zip and legacy containers),
// the real LPIPS heads, and bad inputs.
import Checkpoints
import Foundation
import TestSupport
import Testing

struct ExpectedTensor: Decodable {
    let dtype: String
    let shape: [Int]
    let values: [Double]
}

func pth(_ name: String) -> String { FixturePaths.fixtures.appendingPathComponent("pth/\(name)").path }

func referenceJSON() throws -> [String: Any] {
    let data = try Data(contentsOf: FixturePaths.fixtures.appendingPathComponent("checkpoint_reference.json"))
    return (try JSONSerialization.jsonObject(with: data) as! [String: Any])["files"] as! [String: Any]
}

@Suite("PyTorch files")
struct TorchFileTests {
    @Test(arguments: ["mixed_zip.pth", "mixed_legacy.pth"])
    func readsBothContainers(file: String) throws {
        let archive = try TorchFile.archive(pth(file))
        let expected = try referenceJSON()[file] as! [String: [String: Any]]
        let dtypes = ["float32": DType.float32, "float16": .float16, "bfloat16": .bfloat16, "int64": .int64, "int32": .int32]
        for (name, e) in expected {
            let t = try #require(archive[name], "\(file): \(name) missing")
            #expect(t.dtype == dtypes[e["dtype"] as! String], "\(name) dtype")
            #expect(t.shape == e["shape"] as! [Int], "\(name) shape")
            let values = (e["values"] as! [Double]).map(Float.init)
            #expect(t.floatTensor().scalars == values, "\(name) values")  // exact: same bits
        }
        #expect(archive.metadata["epoch"] == "7")
        #expect(archive.metadata["name"] == "fixture")
        #expect(archive.metadata["lr"] == "0.5")
        #expect(archive.metadata["flag"] == "True")
        #expect(archive.metadata["nothing"] == "None")
        #expect(archive.metadata["pair"] == "(1, 2)")
    }

    @Test func readsTheRealLPIPSHeads() throws {
        let archive = try TorchFile.archive(pth("lpips_alex_v0.1.pth"))
        let expected = try referenceJSON()["lpips_alex_v0.1.pth"] as! [String: [String: Any]]
        #expect(archive.tensors.count == 5)
        for (name, e) in expected {
            let t = try #require(archive[name])
            #expect(t.shape == e["shape"] as! [Int])
            let sum = t.floatTensor().scalars.reduce(0.0) { $0 + Double($1) }
            #expect(abs(sum - (e["sum"] as! Double)) < 1e-4, "\(name) sum")
        }
        let ours = try KeyMap.lpips.apply(archive)
        #expect(ours.tensors.map(\.name).sorted() == (0..<5).map { "heads.\($0).weight" })
        #expect(try KeyMap.lpips.apply(ours, towardOurs: false).tensors.map(\.name).sorted() == archive.tensors.map(\.name).sorted())
    }

    @Test func torchvisionMapsKeepFeaturesAndDropClassifiers() throws {
        let vgg = try KeyMap.torchvisionVGG19.apply(try TorchFile.archive(pth("vgg19_layout.pth")))
        #expect(vgg.tensors.count == 32 && vgg.tensors.allSatisfy { $0.name.hasPrefix("features.") })
        #expect(vgg["features.34.weight"] != nil)
        let alex = try KeyMap.torchvisionAlexNet.apply(try TorchFile.archive(pth("alexnet_layout.pth")))
        #expect(alex.tensors.count == 10 && alex["features.10.bias"] != nil)
    }

    @Test(arguments: [
        ("bad_truncated_zip.pth", "damaged or truncated"),
        ("bad_truncated_legacy.pth", "truncated"),
        ("bad_os_system.pth", "unsupported pickle global os.system"),
        ("bad_text.pth", "not a PyTorch file"),
        ("missing.pth", "no such file"),
        // Hostile files (generate_hostile_fixtures.py): refused quickly, within memory.
        ("hostile_expand.pth", "more than the file stores"),
        ("hostile_overflow.pth", "tensor with shape [1099511627776, 1099511627776]"),
        ("hostile_deep.pth", "nests deeper than 100 levels"),
        ("hostile_memo_bomb.pth", "expands to more than 2000000 objects"),
        ("hostile_zip_bomb.pth", "likely zip bomb"),
    ])
    func badInputsAreNamed(file: String, expected: String) {
        do {
            _ = try TorchFile.load(pth(file))
            Issue.record("\(file) was accepted")
        } catch let e as CheckpointError {
            #expect(e.description.contains(expected), "\(file): \(e)")
        } catch {
            Issue.record("\(file): \(error)")
        }
    }
}
