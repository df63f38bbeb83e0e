// What only a separate process can show, run on the built `ecdp` binary: a write that runs
// out of room (a file-size limit, as a full disk) ends with exit code 1 and a message naming
// the file the user asked for — no crash inside libhdf5 at exit, no temporary left, nothing
// half-written in place; and a training run stopped by SIGTERM saves its checkpoint and
// exits 143, so a script sees it did not finish.
import Checkpoints
import Foundation
import TestSupport
import Testing

@Suite("Process level")
struct ProcessLevelTests {
    static let binary = FixturePaths.path(".build/debug/ecdp")

    /// Runs `executable` to its end from the repository root; returns its exit status (nil
    /// if a signal ended it), stdout and stderr.
    static func run(_ executable: String, _ arguments: [String],
                    environment: [String: String] = [:]) throws -> (status: Int32?, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.currentDirectoryURL = FixturePaths.repositoryRoot
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes while the process runs, so neither fills up and blocks it.
        nonisolated(unsafe) var errorData = Data()
        let reader = Thread { errorData = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outputData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return (process.terminationReason == .exit ? process.terminationStatus : nil,
                String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary), "needs .build/debug/ecdp (make test builds it)"),
          arguments: ["h5", "safetensors"])
    func aFileSizeLimitEndsInAMessage(_ format: String) throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("out.\(format)").path
        let source = FixturePaths.path("Checkpoints/pretrained/ecdp-small-demo.safetensors")
        // 1000 blocks of 1 KB: the 11.6 MB model cannot fit.
        let result = try Self.run("/bin/sh", ["-c", "ulimit -f 1000 && exec \"$0\" convert \"$1\" \"$2\"", Self.binary, source, output])
        let message = result.stderr
        #expect(result.status == 1, "status \(String(describing: result.status)): \(message)")
        #expect(message.hasPrefix("Error: \(output):"), "\(message)")
        #expect(message.split(separator: "\n").count == 1, "\(message)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "leftovers")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary), "needs .build/debug/ecdp (make test builds it)"))
    func sigtermSavesAndExits143() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["train", "--config", "tiny", "--run", run, "--steps", "100000", "--set", "schedule.validate_every=0",
                             "--set", "schedule.sample_every=0", "--set", "data.train=\(FixturePaths.path("Training/data/demo/train"))"]
        process.currentDirectoryURL = FixturePaths.repositoryRoot
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try process.run()
        // Wait for the run to be under way (its config written), then stop it.
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: run + "/config.yaml"), Date() < deadline { usleep(100_000) }
        usleep(2_000_000)
        process.terminate()  // SIGTERM
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 143, "status \(process.terminationStatus)")
        #expect(FileManager.default.fileExists(atPath: run + "/checkpoint.h5"))
    }

    /// The fuzz corpus (seeds and every input that once crashed a reader) replays through
    /// the readers without a crash (docs/robustness.md; `make fuzz` grows it).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: FixturePaths.path(".build/debug/ecdp-fuzz")), "needs .build/debug/ecdp-fuzz"),
          arguments: ["png", "pth", "pickle", "safetensors", "hdf5", "config", "set"])
    func fuzzCorpusReplaysWithoutACrash(_ target: String) throws {
        let result = try Self.run(FixturePaths.path(".build/debug/ecdp-fuzz"), [target, FixturePaths.path("Tests/Fuzz/Corpus/\(target)")])
        let text = result.stdout
        #expect(result.status == 0, "\(target): status \(String(describing: result.status)) \(result.stderr)")
        #expect(text.contains("\(target): ") && text.contains("no crash") && !text.contains(": 0 inputs"), "\(text)")
    }

    /// The exit codes a script sees: 0 success, 1 a failure with one line, 2 a usage error.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary), "needs .build/debug/ecdp (make test builds it)"))
    func exitCodesAreZeroOneTwo() throws {
        let success = try Self.run(Self.binary, ["info", "--config", "tiny"])
        #expect(success.status == 0 && success.stdout.contains("824310"), "\(success)")
        let failure = try Self.run(Self.binary, ["inspect", "/nonexistent/model.safetensors"])
        #expect(failure.status == 1 && failure.stderr == "Error: /nonexistent/model.safetensors: no such file\n", "\(failure)")
        for usage in [["no-such-command"], ["upscale", "--checkpoint", "x", "--input", "y", "--output", "z", "--temperature", "nan"]] {
            let result = try Self.run(Self.binary, usage)
            #expect(result.status == 2 && result.stderr.hasPrefix("Error: "), "\(usage): \(result)")
        }
    }

    /// `ECDP_KERNEL_TUNING` sets the kernel thresholds for the process; a misspelt one is a
    /// usage error that names it, before any work.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary), "needs .build/debug/ecdp (make test builds it)"))
    func kernelTuningFromTheEnvironment() throws {
        let tuned = try Self.run(Self.binary, ["bench", "tuning", "--json"],
                                 environment: ["ECDP_KERNEL_TUNING": "narrow_width=16, band_floats=64k"])
        #expect(tuned.status == 0 && tuned.stdout.contains(#""ECDP_KERNEL_TUNING": "band_floats=65536,narrow_width=16""#), "\(tuned)")
        let bad = try Self.run(Self.binary, ["info", "--config", "tiny"], environment: ["ECDP_KERNEL_TUNING": "narow_width=16"])
        #expect(bad.status == 2 && bad.stderr.hasPrefix("Error: ECDP_KERNEL_TUNING: unknown kernel setting 'narow_width'"), "\(bad)")
    }

    /// `ecdp tables`: the list, dry runs at both scales (the paper's without --data lists what it
    /// needs), a paper-scale run without --data (what to download, exit 1), an unknown table (exit 1).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary), "needs .build/debug/ecdp (make test builds it)"))
    func tablesListsPlansAndSaysWhatDataIsMissing() throws {
        let list = try Self.run(Self.binary, ["tables", "--list"])
        #expect(list.status == 0, "\(list)")
        for name in ["ecdp-table1", "ecdp-table3", "ecdp-table5", "ecdp-table6", "bc-table1", "bc-fig3", "bc-table6"] {
            #expect(list.stdout.contains("\(name): "), "\(name)")
        }
        let out = try FixturePaths.temporaryDirectory().path
        let dry = try Self.run(Self.binary, ["tables", "ecdp-table6", "--dry-run", "--out", out])
        #expect(dry.status == 0 && dry.stdout.contains("0 steps, 0 to run"), "\(dry)")
        let paperPlan = try Self.run(Self.binary, ["tables", "ecdp-table1", "--scale", "paper", "--dry-run", "--processes", "8", "--out", out])
        #expect(paperPlan.status == 0 && paperPlan.stdout.contains("train paper-div2k") && paperPlan.stdout.contains("with 8 processes")
                && paperPlan.stdout.contains("without --data: a run needs --data DIR holding"), "\(paperPlan)")
        let paper = try Self.run(Self.binary, ["tables", "ecdp-table1", "--scale", "paper", "--out", out])
        #expect(paper.status == 1 && paper.stderr.contains("needs --data DIR holding") && paper.stderr.contains("ecdp prepare --kind div2k"),
                "\(paper)")
        let unknown = try Self.run(Self.binary, ["tables", "no-such-table", "--dry-run", "--out", out])
        #expect(unknown.status == 1 && unknown.stderr.contains("no-such-table.yaml: cannot read the table spec"), "\(unknown)")
    }

    /// `--version` names the build; a renamed flag still works, with a note naming the new one.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary), "needs .build/debug/ecdp (make test builds it)"))
    func versionAndRenamedFlags() throws {
        let version = try Self.run(Self.binary, ["--version"])
        #expect(version.status == 0 && version.stdout.hasPrefix("ecdp ") && version.stdout.contains("debug build"), "\(version)")
        let image = FixturePaths.path("Training/data/demo/test/face.png")
        let old = try Self.run(Self.binary, ["metrics", "--protocol", "ecdp", "--reference", image, "--output", image])
        #expect(old.status == 0 && old.stderr.contains("`ecdp metrics --output` is now --sr"), "\(old)")
        let neither = try Self.run(Self.binary, ["metrics", "--protocol", "ecdp", "--reference", image])
        #expect(neither.status == 2 && neither.stderr.contains("--sr"), "\(neither)")
    }

    static let mpirun = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The model and EMA weights of two run folders' checkpoints: ‖a − b‖ / ‖a‖ and max |a − b|.
    static func weightDifference(_ a: String, _ b: String) throws -> (relative: Double, maximum: Double) {
        let x = try CheckpointFormat.read(a + "/checkpoint.h5"), y = try CheckpointFormat.read(b + "/checkpoint.h5")
        let other = Dictionary(y.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { p, _ in p })
        var diff = 0.0, norm = 0.0, maximum = 0.0
        for (name, t) in x.tensors where name.hasPrefix("model/") || name.hasPrefix("ema/") {
            let u = t.floatTensor().scalars, v = try #require(other[name], "\(name) missing").floatTensor().scalars
            for (p, q) in zip(u, v) {
                diff += Double(p - q) * Double(p - q); norm += Double(p) * Double(p); maximum = max(maximum, Double(abs(p - q)))
            }
        }
        return ((diff / norm).squareRoot(), maximum)
    }

    /// `mpirun -np 2 ecdp train` ends with the weights of one process with the same global
    /// batch and seed (to float tolerance: the two halves' gradients are summed in another
    /// order), resumes to them again, and a failure on one process stops both with its message;
    /// pretrain-rrdb, find-bc and eval give what one process gives.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary) && mpirun != nil,
                   "needs .build/debug/ecdp and Open MPI's mpirun (make setup-test installs openmpi-bin)"))
    func twoProcessesTrainTheSameWeightsAsOne() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let single = dir.appendingPathComponent("one").path, parallel = dir.appendingPathComponent("two").path
        let launch = [Self.mpirun!, "--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self,vader", "-np", "2", Self.binary]
        let settings = ["--config", FixturePaths.path("Training/configs/tiny.yaml"), "--seed", "3",
                        "--set", "data.train=\(FixturePaths.path("Training/data/demo/train"))", "--set", "schedule.validate_every=0",
                        "--set", "schedule.sample_every=0", "--set", "schedule.log_every=1"]
        let one = try Self.run(Self.binary, ["train", "--run", single, "--steps", "4"] + settings)
        #expect(one.status == 0, "\(one)")
        let two = try Self.run("/usr/bin/timeout", ["300"] + launch + ["train", "--run", parallel, "--steps", "4"] + settings)
        #expect(two.status == 0 && two.stdout.contains("data-parallel over 2 processes"), "\(two)")
        // Adam moves a weight by about lr per step, so near-zero gradients whose sign the
        // summation order flips can differ by a few steps' lr (here ≤ 1e-6 each).
        var d = try Self.weightDifference(single, parallel)
        #expect(d.relative < 1e-5 && d.maximum < 1e-5, "after 4 steps: \(d)")
        let oneMore = try Self.run(Self.binary, ["resume", single, "--steps", "6"])
        let twoMore = try Self.run("/usr/bin/timeout", ["300"] + launch + ["resume", parallel, "--steps", "6"])
        #expect(oneMore.status == 0 && twoMore.status == 0, "\(oneMore) \(twoMore)")
        d = try Self.weightDifference(single, parallel)
        #expect(d.relative < 1e-5 && d.maximum < 2e-5, "after resuming to 6 steps: \(d)")

        let faulted = try Self.run("/usr/bin/env", ["ECDP_FAULT_RANK=1", "ECDP_FAULT_STEP=2", "/usr/bin/timeout", "300"] + launch
                                   + ["train", "--run", dir.appendingPathComponent("fault").path, "--steps", "4"] + settings)
        #expect(faulted.status != 0 && faulted.status != 124, "a failing process must stop the run, not hang: \(faulted)")
        #expect(faulted.stderr.contains("Error (process 1 of 2): injected fault at step 2"), "\(faulted.stderr)")

        // finetune: each process solves its share's ODE with its own adaptive steps, so the
        // run equals one process within the solver's tolerance, not to float precision.
        let finetune = ["finetune", "--checkpoint", single + "/checkpoint.h5", "--config", FixturePaths.path("Training/configs/tiny.yaml"),
                        "--set", "data.train=\(FixturePaths.path("Training/data/demo/train"))", "--set", "schedule.validate_every=0",
                        "--set", "schedule.sample_every=0", "--set", "finetune.pixel_weight=50", "--set", "finetune.score_matching_weight=0",
                        "--set", "finetune.rtol=1e-2", "--set", "finetune.atol=1e-2", "--set", "data.hr_crop=16", "--steps", "1", "--run"]
        let f1 = dir.appendingPathComponent("ft1").path, f2 = dir.appendingPathComponent("ft2").path
        #expect(try Self.run(Self.binary, finetune + [f1]).status == 0)
        let ft = try Self.run("/usr/bin/timeout", ["300"] + launch + finetune + [f2])
        #expect(ft.status == 0, "\(ft)")
        d = try Self.weightDifference(f1, f2)
        #expect(d.relative < 1e-2, "fine-tune, 1 step: \(d)")

        // pretrain-rrdb: each process takes its share of the batch; the encoder weights match.
        let rrdb = ["pretrain-rrdb", "--config", FixturePaths.path("Training/configs/tiny.yaml"),
                    "--set", "data.train=\(FixturePaths.path("Training/data/demo/train"))", "--steps", "3", "--run"]
        let r1 = dir.appendingPathComponent("rrdb1").path, r2 = dir.appendingPathComponent("rrdb2").path
        #expect(try Self.run(Self.binary, rrdb + [r1]).status == 0)
        #expect(try Self.run("/usr/bin/timeout", ["300"] + launch + rrdb + [r2]).status == 0)
        let e1 = try Safetensors.read(r1 + "/rrdb.safetensors"), e2 = try Safetensors.read(r2 + "/rrdb.safetensors")
        let other = Dictionary(e2.tensors.map { ($0.name, $0.tensor.floatTensor().scalars) }, uniquingKeysWith: { p, _ in p })
        var encoderDiff = 0.0, encoderNorm = 0.0
        for (name, t) in e1.tensors {
            for (p, q) in zip(t.floatTensor().scalars, other[name] ?? []) { encoderDiff += Double(p - q) * Double(p - q); encoderNorm += Double(p) * Double(p) }
        }
        #expect(e1.tensors.count == e2.tensors.count && (encoderDiff / encoderNorm).squareRoot() < 1e-6)

        // find-bc and eval split their work over the processes and merge on rank 0: the same
        // artifact, byte for byte, and the same per-image rows (timing aside).
        let model = FixturePaths.path("Checkpoints/pretrained/ecdp-small-demo.safetensors")
        let search = ["find-bc", "--checkpoint", model, "--reference", FixturePaths.path("Training/data/demo/train"), "--K", "4", "--R", "2",
                      "--metric", "psnr", "--solver", "ddim:2", "--size", "32", "--seed", "0", "--out"]
        let bc1 = dir.appendingPathComponent("one.safetensors").path, bc2 = dir.appendingPathComponent("two.safetensors").path
        #expect(try Self.run(Self.binary, search + [bc1]).status == 0)
        #expect(try Self.run("/usr/bin/timeout", ["300"] + launch + search + [bc2]).status == 0)
        #expect(FileManager.default.contents(atPath: bc1) == FileManager.default.contents(atPath: bc2))
        let patches = dir.appendingPathComponent("patches").path
        #expect(try Self.run(Self.binary, ["prepare", "--kind", "patches", "--input", FixturePaths.path("Training/data/demo/test"),
                                            "--out", patches, "--size", "32", "--count", "3", "--seed", "0"]).status == 0)
        let eval = ["eval", "--checkpoint", model, "--hr", patches + "/hr", "--protocol", "ecdp",
                    "--solver", "ddim:2", "--solver", "bicubic", "--seeds", "0,1", "--out"]
        let ev1 = dir.appendingPathComponent("ev1").path, ev2 = dir.appendingPathComponent("ev2").path
        #expect(try Self.run(Self.binary, eval + [ev1]).status == 0)
        #expect(try Self.run("/usr/bin/timeout", ["300"] + launch + eval + [ev2]).status == 0)
        func rows(_ folder: String) throws -> [String] {
            // image … lpips, nfe: every column but seconds and the output path.
            try String(contentsOfFile: folder + "/per_image.csv", encoding: .utf8).split(separator: "\n")
                .map { $0.split(separator: ",", omittingEmptySubsequences: false).prefix(10).joined(separator: ",") }
        }
        #expect(try rows(ev1) == rows(ev2))
        #expect(try FileManager.default.contentsOfDirectory(atPath: ev2).filter { $0.hasPrefix("per_image-") }.isEmpty, "shard files left")
    }

    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// `ecdp report` pages rendered by a real browser (headless Chromium): no script errors,
    /// the key elements there, and no horizontal scrolling at 1280 px or at 375 px.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary) && chromium != nil,
                   "needs .build/debug/ecdp and Chromium (make setup-test installs it)"))
    func reportsRenderInABrowserWithoutErrorsOrSideways() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let patches = dir.appendingPathComponent("patches").path, eval = dir.appendingPathComponent("eval").path
        #expect(try Self.run(Self.binary, ["prepare", "--kind", "patches", "--input", FixturePaths.path("Training/data/demo/test"),
                                            "--out", patches, "--size", "32", "--count", "3", "--seed", "0"]).status == 0)
        #expect(try Self.run(Self.binary, ["eval", "--checkpoint", FixturePaths.path("Checkpoints/pretrained/ecdp-small-demo.safetensors"),
                                            "--hr", patches + "/hr", "--protocol", "ecdp", "--solver", "ddim:2", "--solver", "bicubic",
                                            "--out", eval]).status == 0)
        let run = dir.appendingPathComponent("run").path
        #expect(try Self.run(Self.binary, ["train", "--config", FixturePaths.path("Training/configs/tiny.yaml"), "--run", run, "--steps", "2",
                                            "--set", "data.train=\(FixturePaths.path("Training/data/demo/train"))",
                                            "--set", "data.validation=\(FixturePaths.path("Training/data/demo/test"))",
                                            "--set", "schedule.validate_every=2", "--set", "schedule.sample_every=2",
                                            "--set", "sampling.validation_crop=32"]).status == 0)
        let demo = dir.appendingPathComponent("demo").path
        let demoRun = try Self.run(Self.binary, ["demo", "--output", demo, "--steps", "2", "--solver", "ddim:2"])
        #expect(demoRun.status == 0 && demoRun.stdout.contains("report: \(demo)/report.html"), "\(demoRun)")
        let pages: [(folder: String, extra: [String], expected: [String])] = [
            (demo, [], ["<h2>Super-resolution</h2>", "<h2>Metrics</h2>", "HR reference", "<h2>The brief training run</h2>"]),
            (eval, ["--hr", patches + "/hr"], ["id=\"per-image\"", "<h2>Summary</h2>", "Protocol: ecdp", "<h2>Details: best and worst image (ddim:2)</h2>", "<img"]),
            (run, [], ["<h2>Loss</h2>", "<h2>Validation</h2>", "<h2>Samples over training</h2>", "τ = 0.9", "<h2>Config</h2>"]),
        ]
        for page in pages {
            let html = page.folder + "/report.html"
            let made = try Self.run(Self.binary, ["report", page.folder] + page.extra)
            #expect(made.status == 0 && made.stdout.contains("wrote \(html)"), "\(made)")
            for width in [1280, 375] {
                let browser = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=\(width),900"]
                let dom = try Self.run("/usr/bin/timeout", ["120", Self.chromium!] + browser + ["--dump-dom", "file://" + html])
                #expect(dom.stdout.contains("data-horizontal-overflow=\"false\""), "\(page.folder) at \(width) px scrolls sideways")
                #expect(dom.stdout.contains("data-script-errors=\"0\""), "\(page.folder) at \(width) px: script errors")
                for element in page.expected { #expect(dom.stdout.contains(element), "\(page.folder): no \(element)") }
                let shot = dir.appendingPathComponent("shot-\(width).png").path
                _ = try Self.run("/usr/bin/timeout", ["120", Self.chromium!] + browser + ["--screenshot=\(shot)", "file://" + html])
                let size = (try? FileManager.default.attributesOfItem(atPath: shot)[.size] as? Int) ?? 0
                #expect(size > 10_000, "screenshot of \(page.folder) at \(width) px: \(size) bytes")
            }
        }
    }

    /// Named configs and shipped files are found from any working directory.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary), "needs .build/debug/ecdp (make test builds it)"))
    func worksFromAnyDirectory() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["info", "--config", "small"]
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && text.contains("5766630"), "\(text)")
    }
}
