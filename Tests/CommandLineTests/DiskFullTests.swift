// A write that runs out of room (a file-size limit, as a full disk) ends with exit code 1
// and a message naming the file the user asked for — no crash inside libhdf5 at exit, no
// temporary left behind, nothing half-written in place. Runs the built `ecdp` binary under
// `ulimit -f`, since the limit must not touch the test process.
import Foundation
import TestSupport
import Testing

@Suite("Disk full")
struct DiskFullTests {
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
}
