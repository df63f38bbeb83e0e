// `ecdp eval` end to end on a tiny random model and small images: the three outputs, the
// per-image numbers equal to `ecdp metrics` on the written files, resumption after an
// interruption with the same summary, and refusal to mix another protocol into a folder.
import Checkpoints
import ECDPCommandLine
import Foundation
import Grad
import Imaging
import TestSupport
import Testing
import Training

// In the command-line suite: `ecdp()` captures the process's stdout, so these must not run
// beside the other command tests.
extension CommandLineTests {
    /// A tiny model with random weights, saved as a self-describing safetensors export.
    func tinyCheckpoint(in dir: URL) throws -> String {
        let config = try TrainingConfig.load(FixturePaths.path("Training/configs/tiny.yaml"))
        let model = config.makeModel(seed: 3)
        var rng = RandomGenerator(seed: 4)
        for (_, p) in model.parameters() { p.value = p.value + Tensor.randomNormal(p.shape, std: 0.02, using: &rng) }
        let archive = TensorArchive(tensors: model.stateDict().sorted { $0.key < $1.key }.map { ($0.key, RawTensor($0.value)) },
                                    metadata: ["meta/config_yaml": config.yaml])
        let path = dir.appendingPathComponent("tiny.safetensors").path
        try Safetensors.write(archive, to: path)
        return path
    }

    /// Three HR images cut from the demo photographs, one not a multiple of the scale (34×33).
    func hrFolder(in dir: URL) throws -> String {
        let hr = dir.appendingPathComponent("hr").path
        try FileManager.default.createDirectory(atPath: hr, withIntermediateDirectories: true)
        let demo = FixturePaths.path("Training/data/demo/test")
        for (name, (h, w)) in [("chelsea.png", (32, 32)), ("face.png", (32, 40)), ("picture1a.png", (33, 34))] {
            let full = try PNG.read("\(demo)/\(name)")
            try PNG.write(full.slice(start: [0, 100, 100], size: [3, h, w]), to: "\(hr)/\(name)")
        }
        return hr
    }

    func table(_ path: String) throws -> [[String]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    func summaryRows(_ out: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(out)/summary.json"))
        return (try JSONSerialization.jsonObject(with: data) as! [String: Any])["rows"] as! [[String: Any]]
    }

    @Test func evaluatesResumesAndAgreesWithMetrics() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let checkpoint = try tinyCheckpoint(in: dir), hr = try hrFolder(in: dir)
        let out = dir.appendingPathComponent("eval").path
        let arguments = ["eval", "--checkpoint", checkpoint, "--hr", hr, "--protocol", "ecdp", "--solver", "ddim:2", "--solver", "bicubic",
                         "--seeds", "0,1", "--out", out, "--threads", "1"]
        let printed = try ecdp(arguments)
        #expect(printed.contains("Protocol: ecdp (RGB, 8-bit, no border crop)"), "\(printed)")

        // per_image.csv: 3 images × (2 seeds of ddim:2 + the bicubic baseline).
        let rows = try table("\(out)/per_image.csv")
        #expect(rows[0] == ["image", "solver", "temperature", "x_t", "seed", "psnr", "ssim", "lr_psnr", "lpips", "nfe", "seconds", "output"])
        #expect(rows.count == 1 + 9)
        #expect(rows.dropFirst().filter { $0[1] == "ddim:2" }.allSatisfy { $0[9] == "2" })
        // LR inputs made with the training degradation; the 34×33 reference mod-cropped to 32×32.
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(out)/lr").sorted() == ["chelseax4.png", "facex4.png", "picture1ax4.png"])
        #expect(try PNG.read("\(out)/hr/picture1a.png").shape == [3, 32, 32])

        // Every per-image number is what `ecdp metrics` says of the written file.
        for row in rows.dropFirst() {
            let reference = row[0] == "picture1a.png" ? "\(out)/hr/picture1a.png" : "\(hr)/\(row[0])"
            let lr = "\(out)/lr/\(row[0].replacingOccurrences(of: ".png", with: "x4.png"))"
            let m = jsonLines(try ecdp(["metrics", "--protocol", "ecdp", "--reference", reference, "--sr", "\(out)/\(row[11])",
                                        "--lr", lr, "--json"]))[0]
            for (column, key) in [(5, "psnr"), (6, "ssim"), (7, "lr_psnr")] {
                #expect(abs(Double(row[column])! - (m[key] as! Double)) < 1e-9, "\(row[0]) \(row[1]) \(key): \(row[column]) vs \(m[key]!)")
            }
        }

        // summary.json: one row per solver, means with their spreads and what was measured.
        let summary = try summaryRows(out)
        #expect(summary.map { $0["solver"] as? String } == ["ddim:2", "bicubic"])
        let ddim = summary[0]
        #expect(ddim["images"] as? Int == 3 && ddim["protocol"] as? String == "ecdp" && ddim["nfe"] as? Double == 2)
        #expect((ddim["checkpoint"] as? [String: Any])?["sha256"] as? String == (try sha256(checkpoint)))
        let psnrs = rows.dropFirst().filter { $0[1] == "ddim:2" }.map { Double($0[5])! }
        #expect(abs((ddim["psnr_mean"] as! Double) - psnrs.reduce(0, +) / 6) < 1e-9)
        #expect(ddim["psnr_std_seeds"] is Double && ddim["psnr_std_images"] is Double && ddim["lpips_mean"] is NSNull)
        #expect(summary[1]["psnr_std_seeds"] is NSNull)  // the baseline has no seeds

        // Interrupted: the last two rows lost and a third cut mid-line. The rerun measures just
        // those and gives the same summary, timing aside.
        let before = try summaryRows(out)
        var lines = try String(contentsOfFile: "\(out)/per_image.csv", encoding: .utf8).split(separator: "\n").map(String.init)
        let cut = lines[lines.count - 3]
        lines = Array(lines.dropLast(3)) + [String(cut.prefix(20))]
        try lines.joined(separator: "\n").write(toFile: "\(out)/per_image.csv", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: "\(out)/summary.json")
        _ = try ecdp(arguments)
        #expect(try table("\(out)/per_image.csv").count == 10)
        // Bit for bit, timing and machine aside.
        func withoutTiming(_ rows: [[String: Any]]) -> [NSDictionary] {
            rows.map { var r = $0; r["seconds_per_image"] = nil; r["machine"] = nil; return r as NSDictionary }
        }
        #expect(withoutTiming(try summaryRows(out)) == withoutTiming(before))

        // Another protocol into the same folder is refused, naming what the folder holds.
        do {
            _ = try ecdp(arguments.map { $0 == "ecdp" ? "basicsr" : $0 })
            Issue.record("mixing protocols did not fail")
        } catch {
            #expect("\(error)".contains("under protocol ecdp"), "\(error)")
        }
    }

    func sha256(_ path: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.arguments = [path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        p.waitUntilExit()
        return String(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64))
    }

    @Test func evalUsageErrors() throws {
        for bad in [["--solver", "ddim:x"], ["--solver", "ddim:2", "--x-T", "n.safetensors", "--temperature", "0.8"],
                    ["--solver", "ddim:2", "--seeds", "a,b"], ["--solver", "ddim:2", "--protocol", "psnr"]] {
            var arguments = ["eval", "--checkpoint", "c", "--hr", "h", "--out", "o"] + bad
            if !bad.contains("--protocol") { arguments += ["--protocol", "ecdp"] }
            do {
                _ = try ecdp(arguments)
                Issue.record("\(bad) did not fail")
            } catch {
                #expect(ECDPCommand.exitCode(for: error) == .validationFailure, "\(bad): \(error)")
            }
        }
    }
}
