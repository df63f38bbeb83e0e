// The readers of untrusted input, each as one function of bytes (docs/robustness.md): every
// input must end in a value or a thrown error, never a crash, a hang or a runaway
// allocation. libFuzzer drives them in `make fuzz`; the corpus replay drives them in
// ordinary builds and in the tests.
import Checkpoints
import Foundation
import Imaging
import Training

enum FuzzTarget: String, CaseIterable {
    case png, pth, pickle, safetensors, hdf5, config, set

    /// The config text `set` overrides are applied to.
    static let tinyConfig: String = (try? String(contentsOfFile: "Training/configs/tiny.yaml", encoding: .utf8)) ?? "name: tiny\n"

    /// A scratch file per process: readers that take a path read the input from here.
    static let scratch = NSTemporaryDirectory() + "ecdp-fuzz-\(getpid())"

    func run(_ bytes: [UInt8]) {
        do {
            switch self {
            case .png:
                let path = Self.scratch + ".png"
                try Self.writeScratch(bytes, to: path)
                _ = try PNG.read(path, pixelLimit: 1 << 20)
            case .pth:
                let path = Self.scratch + ".pth"
                try Self.writeScratch(bytes, to: path)
                _ = try TorchFile.archive(path)
            case .pickle:
                // The input follows a valid legacy header: the object pickle, storage keys and
                // storages are the fuzzer's.
                _ = TorchFile.flatten(try TorchFile.load(contents: Self.legacyHeader + bytes, name: "input"))
            case .safetensors:
                let path = Self.scratch + ".safetensors"
                try Self.writeScratch(bytes, to: path)
                _ = try CheckpointFormat.read(path)
            case .hdf5:
                // Our structural check, then libhdf5 on whatever passes it: the check must
                // leave libhdf5 nothing it would crash on.
                let path = Self.scratch + ".h5"
                try Self.writeScratch(bytes, to: path)
                _ = try CheckpointFormat.read(path)
            case .config:
                _ = try TrainingConfig.parse(String(decoding: bytes, as: UTF8.self), source: "input")
            case .set:
                _ = try TrainingConfig.parse(Self.tinyConfig, source: "tiny", overrides: [String(decoding: bytes, as: UTF8.self)])
            }
        } catch {
            // A thrown error is the expected outcome for a bad input.
        }
    }

    /// Writes the input for a reader that takes a path. Plain POSIX writes: Foundation's
    /// `Data.write` syncs to disk, which held the png target at ~50 executions a second.
    static func writeScratch(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw CocoaError(.fileWriteUnknown) }
    }

    /// torch's legacy magic number, protocol version and system info, as torch writes them.
    static let legacyHeader: [UInt8] = [
        0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E,  // magic
        0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E,  // 1001
        0x80, 0x02, 0x7D, 0x2E,  // {}
    ]
}
