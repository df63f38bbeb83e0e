// The command line end to end, in-process: the README's chain train → resume → convert →
// inspect → degrade → upscale → metrics on the tiny config, the file names each step hands to
// the next, and argument errors with their exit codes.
import ArgumentParser
import Checkpoints
import ECDPCommandLine
import Foundation
import Grad
import Imaging
import TestSupport
import Testing

/// Runs `ecdp ARGS` in this process and returns what it printed on stdout. Serialized: stdout is
/// redirected to a file while the command runs.
func ecdp(_ arguments: [String]) throws -> String {
    let capture = FileManager.default.temporaryDirectory.appendingPathComponent("ecdp-stdout-\(UUID().uuidString)").path
    fflush(nil)  // all C output streams (naming `stdout` is not concurrency-safe in Swift 6)
    let saved = dup(1)
    let fd = open(capture, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    dup2(fd, 1)
    close(fd)
    func restore() { fflush(nil); dup2(saved, 1); close(saved) }
    do {
        var command = try ECDPCommand.parseAsRoot(arguments)
        try command.run()
    } catch {
        restore()
        try? FileManager.default.removeItem(atPath: capture)
        throw error
    }
    restore()
    defer { try? FileManager.default.removeItem(atPath: capture) }
    return try String(contentsOfFile: capture, encoding: .utf8)
}

/// The JSON objects among the printed lines.
func jsonLines(_ text: String) -> [[String: Any]] {
    text.split(separator: "\n").compactMap { line in
        guard line.hasPrefix("{") else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    }
}

@Suite("Command line", .serialized)
struct CommandLineTests {
    let demo = FixturePaths.path("Training/data/demo")
    var tinyOverrides: [String] {
        ["--set", "data.train=\(demo)/train", "--set", "data.validation=\(demo)/test", "--set", "data.hr_crop=16",
         "--set", "sampling.validation_crop=16", "--set", "schedule.validate_every=0", "--set", "schedule.sample_every=0",
         "--set", "schedule.checkpoint_every=100", "--set", "schedule.log_every=1"]
    }

    @Test func infoPrintsTheParameterCounts() throws {
        let rows = jsonLines(try ecdp(["info", "--config", FixturePaths.path("Training/configs/tiny.yaml"), "--json"]))
        #expect(rows.count == 1 && rows[0]["params"] as? Int == 824_310 && rows[0]["config"] as? String == "tiny")
    }

    @Test func trainResumeConvertInspectDegradeUpscaleMetrics() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run").path
        let tiny = FixturePaths.path("Training/configs/tiny.yaml")
        _ = try ecdp(["train", "--config", tiny, "--run", run, "--steps", "2"] + tinyOverrides)
        _ = try ecdp(["resume", run, "--steps", "3"])
        let metrics = try String(contentsOfFile: (run as NSString).appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        #expect(metrics.contains("\"step\": 3") || metrics.contains("\"step\":3"), "\(metrics)")

        // The self-describing EMA export, and what inspect sees in it.
        let export = dir.appendingPathComponent("tiny.safetensors").path
        let converted = try ecdp(["convert", (run as NSString).appendingPathComponent("checkpoint.h5"), export, "--map", "ema-weights",
                                  "--metadata", "meta/note=a=b"])
        #expect(converted.contains("wrote"))
        let tensors = jsonLines(try ecdp(["inspect", export, "--json"]))
        #expect(tensors.contains { $0["name"] as? String == "unet.in_conv.network.weight" && $0["shape"] as? String == "16x3x3x3" })
        #expect(tensors.contains { ($0["meta/config_yaml"] as? String)?.contains("name: tiny\n") == true })
        #expect(tensors.contains { $0["meta/note"] as? String == "a=b" })

        // DIV2K naming through the chain: HR 0801.png → LR 0801x4.png → SR 0801.png.
        let hr = dir.appendingPathComponent("hr").path, lr = dir.appendingPathComponent("lr").path, sr = dir.appendingPathComponent("sr").path
        try FileManager.default.createDirectory(atPath: hr, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(demo)/test/face.png", toPath: (hr as NSString).appendingPathComponent("0801.png"))
        _ = try ecdp(["degrade", "--input", hr, "--output", lr, "--scale", "4"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: lr) == ["0801x4.png"])
        let upscaled = jsonLines(try ecdp(["upscale", "--checkpoint", export, "--input", lr, "--output", sr, "--solver", "dpm2:2", "--json"]))
        #expect(upscaled.count == 1 && upscaled[0]["nfe"] as? Int == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: sr) == ["0801.png"])
        let rows = jsonLines(try ecdp(["metrics", "--protocol", "ecdp", "--reference", hr, "--sr", sr, "--lr", lr, "--json"]))
        #expect(rows.contains { ($0["psnr"] as? Double ?? 0) > 10 && $0["protocol"] != nil }, "\(rows)")
    }

    @Test func metricsAddLPIPSWhenABackboneIsGiven() throws {
        let test = "\(demo)/test"
        let backbone = FixturePaths.path("Tests/Fixtures/lpips/squeezenet1_1-formula-f16.pth")
        // The demo photographs against themselves (distance 0) and against each other, through folders.
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shifted = dir.appendingPathComponent("shifted").path
        try FileManager.default.createDirectory(atPath: shifted, withIntermediateDirectories: true)
        let names = try FileManager.default.contentsOfDirectory(atPath: test).filter { $0.hasSuffix(".png") }.sorted()
        for name in names { try FileManager.default.copyItem(atPath: "\(test)/\(name)", toPath: "\(shifted)/\(name)") }
        let same = jsonLines(try ecdp(["metrics", "--protocol", "ecdp", "--reference", test, "--sr", shifted, "--json",
                                       "--lpips", "squeeze", "--lpips-backbone", backbone]))
        #expect(same.count == names.count + 1)
        #expect(same.allSatisfy { $0["lpips"] as? Double == 0 && $0["lpips_net"] as? String == "squeeze" }, "\(same)")
        // No backbone anywhere: LPIPS is null, every other metric still there.
        setenv("TORCH_HOME", dir.appendingPathComponent("empty-torch-home").path, 1)
        defer { unsetenv("TORCH_HOME") }
        let missing = jsonLines(try ecdp(["metrics", "--protocol", "basicsr", "--reference", test, "--sr", shifted, "--json",
                                          "--lpips", "alex"]))
        #expect(missing.allSatisfy { $0["lpips"] is NSNull && $0["lpips_net"] as? String == "alex" && $0["psnr"] != nil }, "\(missing)")
        // A named backbone of the wrong network is an error that says so.
        #expect(throws: (any Error).self) {
            try ecdp(["metrics", "--protocol", "ecdp", "--reference", test, "--sr", shifted, "--lpips", "alex",
                      "--lpips-backbone", backbone])
        }
    }

    @Test func argumentErrorsAreUsageErrors() throws {
        for bad in [["no-such-command"], ["info"], ["upscale", "--checkpoint", "x", "--input", "y", "--output", "z", "--tile", "2"],
                    ["convert", "a.pt", "b.safetensors", "--map", "nope"], ["convert", "a.pt", "b.safetensors", "--dtype", "F8"],
                    ["metrics", "--protocol", "ecdp", "--reference", "a", "--sr", "b", "--lpips", "resnet"],
                    ["metrics", "--protocol", "ecdp", "--reference", "a", "--sr", "b", "--lpips-backbone", "x.pth"],
                    ["upscale", "--checkpoint", "x", "--input", "y", "--output", "z", "--temperature", "nan"],
                    ["upscale", "--checkpoint", "x", "--input", "y", "--output", "z", "--temperature", "-1"],
                    ["upscale", "--checkpoint", "x", "--input", "y", "--output", "z", "--tile", "8", "--overlap", "4"],
                    ["bench", "conv", "--variant", "no_such_setting=1"], ["bench", "conv", "--tune", "band_floats=0"],
                    ["bench", "train", "--variant", "narrow_width"]] {
            do {
                _ = try ecdp(bad)
                Issue.record("\(bad) did not fail")
            } catch {
                #expect(ECDPCommand.exitCode(for: error) == .validationFailure, "\(bad): \(error)")
            }
        }
    }

    /// `ecdp bench conv --variant`: both settings timed in one run, each arm's path named.
    @Test func benchConvTimesAVariantAgainstTheBase() throws {
        let rows = jsonLines(try ecdp(["bench", "conv", "--input", "1,16,12,12", "--out-channels", "8", "--repetitions", "2",
                                       "--variant", "winograd_minimum_pixels=1", "--variant", "winograd_minimum_work=1", "--json"]))
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(row["path"] as? String == "im2col" && row["variant_path"] as? String == "winograd-f4")
        #expect(row["variant"] as? String == "winograd_minimum_pixels=1,winograd_minimum_work=1" && row["tuning"] as? String == "")
        for key in ["fwd_ms", "variant_fwd_ms", "variant_fwd_ms_ratio", "fwdbwd_ms", "variant_fwdbwd_ms", "variant_fwdbwd_ms_ratio"] {
            #expect((row[key] as? Double).map { $0 > 0 } == true, "\(key)")
        }
        for key in ["variant_fwd_ms_faster", "variant_fwdbwd_ms_faster"] {
            let won = (row[key] as? String)?.split(separator: "/").compactMap { Int($0) } ?? []
            #expect(won.count == 2 && won[1] == 2 && (0...2).contains(won[0]), "\(key): \(row[key] ?? "missing")")
        }
    }

    @Test func runtimeErrorsNameTheProblemAndFail() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Inputs a hostile or careless user gives: tiny images, an output that is the input,
        // a model with a NaN in one weight.
        let photo = try PNG.read(FixturePaths.path("Training/data/demo/test/face.png"))
        let small = dir.appendingPathComponent("small").path, smallOut = dir.appendingPathComponent("small-out").path
        for folder in [small, smallOut] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try PNG.write(photo.slice(start: [0, 0, 0], size: [3, 8, 8]), to: "\(folder)/a.png")
        }
        try PNG.write(photo.slice(start: [0, 0, 0], size: [3, 3, 3]), to: dir.appendingPathComponent("three.png").path)
        let lrImage = dir.appendingPathComponent("lr.png").path
        try PNG.write(photo.slice(start: [0, 0, 0], size: [3, 16, 16]), to: lrImage)
        let shipped = FixturePaths.path("Checkpoints/pretrained/ecdp-small-demo.safetensors")
        var poisoned = try CheckpointFormat.read(shipped)
        let victim = poisoned.tensors.firstIndex { $0.name == "unet.in_conv.network.weight" }!
        var values = poisoned.tensors[victim].tensor.floatTensor().scalars
        values[7] = .nan
        poisoned.tensors[victim].tensor = RawTensor(Tensor(values, shape: poisoned.tensors[victim].tensor.shape))
        let nanModel = dir.appendingPathComponent("nan.safetensors").path
        try CheckpointFormat.write(poisoned, to: nanModel)
        let cases: [([String], String)] = [
            (["degrade", "--input", dir.appendingPathComponent("three.png").path, "--output", dir.appendingPathComponent("d").path],
             "is 3×3: downscaling ×1/4 would leave less than one pixel"),
            (["metrics", "--protocol", "ecdp", "--reference", small, "--sr", smallOut], "SSIM needs at least 11×11"),
            (["upscale", "--checkpoint", shipped, "--input", lrImage, "--output", lrImage, "--solver", "ddim:1"], "would overwrite the input"),
            (["upscale", "--checkpoint", nanModel, "--input", lrImage, "--output", dir.appendingPathComponent("o.png").path],
             "tensor unet.in_conv.network.weight holds non-finite values"),
            (["inspect", small], "\(small): is a folder, not a checkpoint file"),
            (["upscale", "--checkpoint", shipped, "--input", small, "--output", lrImage, "--solver", "ddim:1"],
             "\(lrImage) is a file, but a folder is needed there"),
            (["inspect", "/nonexistent/checkpoint.pt"], "/nonexistent/checkpoint.pt"),
            (["upscale", "--checkpoint", FixturePaths.path("Checkpoints/pretrained/ecdp-small-demo.safetensors"), "--input", "/nonexistent.png",
              "--output", dir.appendingPathComponent("o.png").path], "/nonexistent.png"),
            (["convert", FixturePaths.path("Tests/Fixtures/pth/vgg19_layout.pth"), dir.appendingPathComponent("x.safetensors").path,
              "--map", "ecdp-official"], "no known layout matches"),
            (["train", "--config", FixturePaths.path("Training/configs/paper-div2k.yaml"), "--run", dir.appendingPathComponent("p").path],
             "no training data"),
        ]
        for (arguments, expected) in cases {
            do {
                _ = try ecdp(arguments)
                Issue.record("\(arguments) did not fail")
            } catch {
                #expect(ECDPCommand.exitCode(for: error) == .failure, "\(arguments): exit \(ECDPCommand.exitCode(for: error)) \(error)")
                #expect("\(error)".contains(expected), "\(arguments): \(error)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("p").path), "a failed start leaves no run folder")
    }
}
