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

    /// Views torch saved with their strides (an expand, a permute, a narrow slice) stay
    /// views until read, then give torch's values: as fp32, as integers and as bytes.
    @Test(arguments: ["views_zip.pth", "views_legacy.pth"])
    func viewsAreGatheredOnUse(file: String) throws {
        let archive = try TorchFile.archive(pth(file))
        let expected = try referenceJSON()[file] as! [String: [String: Any]]
        for (name, e) in expected {
            let t = try #require(archive[name], "\(file): \(name) missing")
            #expect(t.isView, "\(name) was gathered at load")
            #expect(t.shape == e["shape"] as! [Int], "\(name) shape")
            let values = (e["values"] as! [Double]).map(Float.init)
            #expect(t.floatTensor().scalars == values, "\(name) values")
            #expect(t.byteCount == t.count * t.dtype.byteSize && t.bytes.count == t.byteCount)
            // The gathered bytes are the contiguous tensor: reading them back agrees.
            let contiguous = RawTensor(dtype: t.dtype, shape: t.shape, bytes: t.bytes)
            #expect(!contiguous.isView && contiguous == t && contiguous.floatTensor().scalars == values)
        }
        #expect(archive["narrow"]!.integers() == [997, 998, 999])
        #expect(archive["expanded"]!.integers() == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2])
    }

    /// A legacy file cut inside its storages: its headers still list (they end at the
    /// object pickle), the same as the whole file's; a full read names the truncation.
    @Test func legacyHeadersDoNotReadStorages() throws {
        let whole = try TorchFile.headers(pth("mixed_legacy.pth"))
        let cut = try TorchFile.headers(pth("bad_truncated_legacy.pth"))
        #expect(cut.tensors == whole.tensors && cut.metadata == whole.metadata)
        #expect(whole.tensors.count == 9)
        #expect(whole.tensors.map(\.name).sorted() == ArchiveHeaders(try TorchFile.archive(pth("mixed_legacy.pth"))).tensors.map(\.name).sorted())
        #expect(throws: CheckpointError.self) { _ = try TorchFile.load(pth("bad_truncated_legacy.pth")) }
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
        ("hostile_cycle.pth", "a container changed after it was nested"),
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
