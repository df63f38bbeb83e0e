// `ecdp inspect` and `ecdp convert`: look inside and convert between HDF5, safetensors
// and PyTorch files.
import ArgumentParser
import Checkpoints
import Foundation

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the tensors (name, dtype, shape, bytes) and metadata of a .h5, .safetensors or .pth/.pt file.")

    @Argument(help: "The file to inspect.") var file: String
    @Flag(help: "One JSON object per tensor, then one with the metadata.") var json = false

    func run() throws {
        // Headers only: no tensor data is read, so even a file that claims terabytes is listed.
        let headers = try CheckpointFormat.headers(file)
        if json {
            for t in headers.tensors {
                var line = JSONLine()
                line.add("name", t.name); line.add("dtype", t.dtype.rawValue)
                line.add("shape", t.shape.map(String.init).joined(separator: "x")); line.add("bytes", t.byteCount)
                print(line.text)
            }
            var meta = JSONLine()
            for (k, v) in headers.metadata.sorted(by: { $0.key < $1.key }) { meta.add(k, v) }
            print(meta.text)
            return
        }
        let width = min(72, headers.tensors.map(\.name.count).max() ?? 4)
        let total = headers.tensors.contains { $0.byteCount < 0 } ? "more than can be counted" : "\(headers.tensors.reduce(0) { $0 + $1.byteCount })"
        print("\(file): \(headers.tensors.count) tensors, \(total) bytes, format \(try CheckpointFormat.of(file).rawValue)")
        for t in headers.tensors {
            print("  \(t.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(t.dtype.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0))  \(t.shape)  \(t.byteCount < 0 ? "size overflows" : "\(t.byteCount) B")")
        }
        if !headers.metadata.isEmpty {
            print("metadata:")
            for (k, v) in headers.metadata.sorted(by: { $0.key < $1.key }) {
                print("  \(k) = \(v.count > 120 ? String(v.prefix(117)) + "…" : v)")
            }
        }
    }
}

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert tensors between formats (by extension: .h5, .safetensors; .pth/.pt read only).",
        discussion: """
        Without --map, names are kept (nested dictionary keys joined with '.') and non-tensor entries
        become metadata. Tensors keep their dtype where the target supports it (safetensors: all;
        HDF5: float → fp32, integer → int64).
        Maps: \(KeyMap.all.map(\.name).joined(separator: ", ")).
        ecdp-official reads what the official ECDP code writes: a training checkpoint.pt (EMA weights
        when present, else the raw ones), a bare ECDP state dict, the RRDBNet-stage checkpoint and the
        extracted pretrained-rrdbnet-*.pt; --reverse writes the names the official model loads strictly.
        See docs/checkpoints.md.
        """)

    @Argument(help: "Input file.") var input: String
    @Argument(help: "Output file (.safetensors or .h5).") var output: String
    @Option(help: "Rename tensors to this project's names with a key map.") var map: String?
    @Flag(help: "Apply the map in reverse (ours → theirs).") var reverse = false
    @Option(help: "Re-encode floating-point tensors as F32, F16 or BF16 (default: keep).") var dtype: String?
    @Option(name: .customLong("metadata"), help: "Add or replace a metadata entry, KEY=VALUE (repeatable), e.g. meta/parent=\"PATH sha256:HEX\".")
    var metadataEntries: [String] = []

    func validate() throws {
        for entry in metadataEntries where !entry.contains("=") || entry.hasPrefix("=") {
            throw ValidationError("--metadata \(entry): write KEY=VALUE")
        }
        if let dtype, !["F32", "F16", "BF16"].contains(dtype.uppercased()) {
            throw ValidationError("--dtype \(dtype): choose F32, F16 or BF16")
        }
        if let map, KeyMap.named(map) == nil {
            throw ValidationError("unknown map '\(map)'; choose one of: \(KeyMap.all.map(\.name).joined(separator: ", "))")
        }
    }

    func run() throws {
        var archive = try CheckpointFormat.read(input)
        let before = archive.tensors.count
        if let name = map { archive = try KeyMap.named(name)!.apply(archive, towardOurs: !reverse) }
        guard !archive.tensors.isEmpty else { throw InputError("\(input): no tensors left to write (wrong --map?)") }
        if let name = dtype?.uppercased(), let target = DType(rawValue: name) {
            archive.tensors = archive.tensors.map { ($0.name, $0.tensor.converted(to: target)) }
        }
        for entry in metadataEntries {
            let split = entry.firstIndex(of: "=")!
            archive.metadata[String(entry[..<split])] = String(entry[entry.index(after: split)...])
        }
        try CheckpointFormat.write(archive, to: output)
        let dropped = before - archive.tensors.count
        if let source = archive.metadata["converted_from"] { print("read: \(source)") }
        print("wrote \(archive.tensors.count) tensors\(dropped > 0 ? " (\(dropped) dropped by the map)" : "") and \(archive.metadata.count) metadata entries to \(output)")
    }
}
