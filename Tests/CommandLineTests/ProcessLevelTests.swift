// What only a separate process can show, run on the built `ecdp` binary: a write that runs
// out of room (a file-size limit, as a full disk) ends with exit code 1 and a message naming
// the file the user asked for — no crash inside libhdf5 at exit, no temporary left, nothing
// half-written in place; and a training run stopped by SIGTERM saves its checkpoint and
// exits 143, so a script sees it did not finish.
import Foundation
import TestSupport
import Testing

@Suite("Process level")
struct ProcessLevelTests {
    static let binary = FixturePaths.path(".build/debug/ecdp")

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary), "needs .build/debug/ecdp (make test builds it)"),
          arguments: ["h5", "safetensors"])
    func aFileSizeLimitEndsInAMessage(_ format: String) throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("out.\(format)").path
        let source = FixturePaths.path("Checkpoints/pretrained/ecdp-small-demo.safetensors")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        // 1000 blocks of 1 KB: the 11.6 MB model cannot fit.
        process.arguments = ["-c", "ulimit -f 1000 && exec \"$0\" convert \"$1\" \"$2\"", Self.binary, source, output]
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = Pipe()
        try process.run()
        let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 1, "status \(process.terminationStatus): \(message)")
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
}
