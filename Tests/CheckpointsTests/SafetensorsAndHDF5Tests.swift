// safetensors and HDF5 round trips, malformed inputs, and the training-state file.
import Checkpoints
import Foundation
import Grad
import GradNN
import TestSupport
import Testing

func sampleArchive() -> TensorArchive {
    var rng = RandomGenerator(seed: 3)
    let f = Tensor.randomNormal([2, 3], using: &rng)
    let half: [UInt8] = [0x00, 0x3C, 0x00, 0xC0]  // 1.0, -2.0 in fp16
    let bf: [UInt8] = [0x80, 0x3F, 0x40, 0x40]    // 1.0, 3.0 in bf16
    let longs: [Int64] = [5, -6, 7]
    return TensorArchive(tensors: [
        ("layer.weight", RawTensor(f)),
        ("half", RawTensor(dtype: .float16, shape: [2], bytes: half)),
        ("bf16", RawTensor(dtype: .bfloat16, shape: [2], bytes: bf)),
        ("steps", RawTensor(dtype: .int64, shape: [3], bytes: longs.withUnsafeBytes { Array($0) })),
        ("empty", RawTensor(dtype: .float32, shape: [0, 4], bytes: [])),
    ], metadata: ["format": "test", "epoch": "3"])
}

@Suite("safetensors and HDF5")
struct SafetensorsAndHDF5Tests {
    @Test func safetensorsRoundTripKeepsDtypesAndMetadata() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("a.safetensors").path
        let a = sampleArchive()
        try Safetensors.write(a, to: path)
        let b = try Safetensors.read(path)
        #expect(b.metadata == a.metadata)
        for (name, t) in a.tensors { #expect(b[name] == t, "\(name)") }
        #expect(b["half"]!.floatTensor().scalars == [1, -2])
        #expect(b["bf16"]!.floatTensor().scalars == [1, 3])
        // Header length is a multiple of 8, as the reference writer pads it.
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } % 8 == 0)
    }

    @Test func dtypeConversionRoundsToNearest() {
        let t = RawTensor(Tensor([1, -2.5, 0.1, 65504, 1e-3], shape: [5]))
        let h = t.converted(to: .float16), b = t.converted(to: .bfloat16)
        #expect(h.dtype == .float16 && h.bytes.count == 10 && b.dtype == .bfloat16)
        #expect(h.floatTensor().scalars == [1, -2.5, Float(Float16(0.1)), 65504, Float(Float16(1e-3))])
        #expect(zip(b.floatTensor().scalars, t.floatTensor().scalars).allSatisfy { abs($0 - $1) <= abs($1) / 128 })
        #expect(h.converted(to: .float32).floatTensor().scalars == h.floatTensor().scalars)
    }

    @Test func malformedSafetensorsAreRejected() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func file(_ header: String, body: Int = 8) throws -> String {
            var d = Data()
            let h = Data(header.utf8)
            withUnsafeBytes(of: UInt64(h.count).littleEndian) { d.append(contentsOf: $0) }
            d.append(h); d.append(Data(count: body))
            let p = dir.appendingPathComponent("\(UUID().uuidString).safetensors").path
            try d.write(to: URL(fileURLWithPath: p))
            return p
        }
        let cases: [(String, String)] = [
            (try file(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 16]}}"#), "outside"),
            (try file(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#), "overlap"),
            (try file(#"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#), "needs 12"),
            (try file(#"{"a": {"dtype": "Q8", "shape": [2], "data_offsets": [0, 8]}}"#), "unsupported dtype"),
            (try file(#"{"a": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 8]}}"#), "absurd"),
            (try file("not json"), "not a JSON object"),
        ]
        for (path, expected) in cases {
            #expect { try Safetensors.read(path) } throws: { ($0 as? CheckpointError)?.reason.contains(expected) == true }
        }
        var huge = Data(); withUnsafeBytes(of: UInt64(1) << 40) { huge.append(contentsOf: $0) }
        let hp = dir.appendingPathComponent("huge.safetensors").path
        try huge.write(to: URL(fileURLWithPath: hp))
        #expect { try Safetensors.read(hp) } throws: { ($0 as? CheckpointError)?.reason.contains("absurd") == true }
        let short = dir.appendingPathComponent("short.safetensors").path
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: short))
        #expect(throws: CheckpointError.self) { try Safetensors.read(short) }
    }

    @Test func hdf5ArchiveRoundTrip() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("a.h5").path
        let a = sampleArchive()
        try CheckpointFormat.write(a, to: path)
        let b = try CheckpointFormat.read(path)
        #expect(b.metadata == a.metadata)
        #expect(b["layer.weight"] == a["layer.weight"])
        #expect(b["half"]!.floatTensor().scalars == [1, -2])  // widened to fp32 in HDF5
        #expect(b["steps"]!.integers() == [5, -6, 7])
        #expect(b["empty"]!.shape == [0, 4])
    }

    @Test func conversionBetweenFormats() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try CheckpointFormat.read(pth("mixed_zip.pth"))
        let st = dir.appendingPathComponent("m.safetensors").path
        try CheckpointFormat.write(source, to: st)
        let back = try CheckpointFormat.read(st)
        #expect(back["nested.half"]!.dtype == .float16)
        #expect(back["transposed"] == source["transposed"])
        #expect(back.metadata["epoch"] == "7")
        #expect(throws: CheckpointError.self) { try CheckpointFormat.write(source, to: dir.appendingPathComponent("x.pth").path) }
        #expect(throws: CheckpointError.self) { try CheckpointFormat.read("model.onnx") }
    }
}

@Suite("Training state")
struct TrainingStateTests {
    func state(step: Int) -> TrainingState {
        var rng = RandomGenerator(seed: UInt64(step))
        let w = Tensor.randomNormal([4, 3], using: &rng), b = Tensor.randomNormal([4], using: &rng)
        var adam = AdamState()
        adam.steps = ["w": step, "b": step]
        adam.firstMoments = ["w": w.scalars.map { $0 * 0.1 }, "b": b.scalars]
        adam.secondMoments = ["w": w.scalars.map { $0 * $0 }, "b": b.scalars.map { $0 * $0 }]
        return TrainingState(model: ["w": w, "b": b], ema: ["w": w * 0.5, "b": b], optimizer: adam,
                             progress: TrainingProgress(step: step, epoch: 2, stepInEpoch: 1),
                             rngStates: ["data": rng.stateWords], sampleLatent: Tensor.randomNormal([1, 3, 4, 4], using: &rng),
                             configYAML: "model: tiny\n")
    }

    @Test func roundTripIsExact() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("checkpoint.h5").path
        let s = state(step: 10)
        try s.save(to: path)
        let t = try TrainingState.load(from: path)
        #expect(t.model.mapValues(\.scalars) == s.model.mapValues(\.scalars))
        #expect(t.ema.mapValues(\.scalars) == s.ema.mapValues(\.scalars))
        #expect(t.optimizer == s.optimizer)
        #expect(t.progress == s.progress)
        #expect(t.rngStates == s.rngStates)
        #expect(t.sampleLatent!.scalars == s.sampleLatent!.scalars)
        #expect(t.configYAML == s.configYAML)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test func retentionKeepsLatestAndEveryNth() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = CheckpointStore(directory: dir.path, keepEvery: 20)
        for step in [10, 20, 30, 40, 50] { try store.save(state(step: step)) }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(files == ["checkpoint-step20.h5", "checkpoint-step40.h5", "checkpoint.h5"])
        #expect(try store.loadLatest().progress.step == 50)
    }

    @Test func failedSaveKeepsThePreviousCheckpoint() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("checkpoint.h5").path
        try state(step: 1).save(to: path)
        var broken = state(step: 2)
        broken.optimizer.steps["ghost"] = 1  // no such parameter: the save fails midway
        #expect(throws: CheckpointError.self) { try broken.save(to: path) }
        #expect(try TrainingState.load(from: path).progress.step == 1)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(leftovers == ["checkpoint.h5"])
    }

    @Test func loadErrorsNameTheProblem() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func reason(_ path: String) -> String {
            do { _ = try TrainingState.load(from: path); return "accepted" } catch { return "\(error)" }
        }
        #expect(reason(dir.appendingPathComponent("none.h5").path).contains("no such file"))
        let text = dir.appendingPathComponent("text.h5").path
        try Data("hello".utf8).write(to: URL(fileURLWithPath: text))
        #expect(reason(text).contains("not an HDF5 file"))
        let good = dir.appendingPathComponent("good.h5").path
        try state(step: 3).save(to: good)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let truncated = dir.appendingPathComponent("truncated.h5").path
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        #expect(reason(truncated).contains("truncated") || reason(truncated).contains("damaged"), "\(reason(truncated))")
        let other = dir.appendingPathComponent("other.h5").path
        try CheckpointFormat.write(sampleArchive(), to: other)
        #expect(reason(other).contains("missing key meta/format_version"))
        let newer = dir.appendingPathComponent("newer.h5").path
        let f = try HDF5File.create(newer)
        try f.write("meta/format_version", integers: [99])
        try f.close()
        #expect(reason(newer).contains("newer version (format 99)"))
        let absurd = dir.appendingPathComponent("absurd.h5").path
        var damaged = state(step: 3)
        damaged.progress.step = -5
        try damaged.save(to: absurd)
        #expect(reason(absurd).contains("progress (step -5, epoch 2, step in epoch 1) is negative or absurd"), "\(reason(absurd))")
        let s = try TrainingState.load(from: good)
        let h5 = try HDF5File.open(good)
        #expect(throws: CheckpointError.self) { try h5.tensor("model/w", expectedShape: [3, 4]) }
        #expect(s.model["w"]!.shape == [4, 3])
    }

    /// A 2 KB file whose dataset header claims 4 TB (generate_hostile_fixtures.py) is
    /// refused before anything is allocated, by every reader.
    @Test func aDatasetClaimingMoreThanItStoresIsRefused() throws {
        let path = FixturePaths.fixtures.appendingPathComponent("h5/hostile_huge_dataset.h5").path
        for read in [{ _ = try CheckpointFormat.read(path) }, { _ = try HDF5File.open(path).tensor("model/w") }] {
            do {
                try read()
                Issue.record("accepted")
            } catch let e as CheckpointError {
                #expect(e.description.contains("dataset model/w of shape [1000000, 1000000] (0 bytes stored)"), "\(e)")
            }
        }
    }
}
