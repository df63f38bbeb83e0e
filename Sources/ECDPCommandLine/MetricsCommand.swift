// `ecdp metrics`: PSNR, SSIM and LR-PSNR of SR outputs against references, for one
// pair of files or two folders (matched by file name), always under a named protocol.
import ArgumentParser
import Evaluation
import Foundation
import Imaging

struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare super-resolved images with references under a named protocol.",
        discussion: """
        Protocols: ecdp (RGB, no border crop, 8-bit) and basicsr (Y BT.601, border crop = scale).
        With folders, every PNG in --output is matched with the reference of the same name; LR
        images may be named like the output or with an x<scale> suffix (0801x4.png).
        """)

    @Option(name: .customLong("protocol"), help: "ecdp or basicsr.") var protocolName: String
    @Option(help: "Reference (HR) PNG file or folder.") var reference: String
    @Option(help: "Super-resolved PNG file or folder.") var output: String
    @Option(help: "LR input PNG file or folder, for LR-PSNR.") var lr: String?
    @Option(help: "Super-resolution scale factor.") var scale = 4
    @Flag(help: "One JSON object per line.") var json = false

    func validate() throws {
        guard MetricProtocol.named(protocolName) != nil else {
            throw ValidationError("unknown protocol '\(protocolName)'; choose one of: \(MetricProtocol.all.map(\.name).joined(separator: ", "))")
        }
        guard scale >= 1 else { throw ValidationError("--scale must be at least 1") }
    }

    func run() throws {
        let proto = MetricProtocol.named(protocolName)!
        let pairs = try matchFiles()
        if !json { print("protocol: \(proto)") }
        var rows: [(String, ImageMetrics)] = []
        for (name, out, ref, lrPath) in pairs {
            let metrics = try proto.evaluate(output: try PNG.read(out), reference: try PNG.read(ref),
                                             lr: try lrPath.map { try PNG.read($0) }, scale: scale)
            rows.append((name, metrics))
            emit(name, metrics)
        }
        if rows.count > 1 {
            func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
            let lrValues = rows.compactMap(\.1.lrPSNR)
            let m = ImageMetrics(protocolName: proto.name, psnr: mean(rows.map(\.1.psnr)), ssim: mean(rows.map(\.1.ssim)),
                                 lrPSNR: lrValues.count == rows.count ? mean(lrValues) : nil)
            emit("mean", m, count: rows.count)
        }
    }

    func emit(_ name: String, _ m: ImageMetrics, count: Int? = nil) {
        if json {
            var line = JSONLine()
            line.add("image", name)
            line.add("protocol", m.protocolName)
            line.add("psnr", m.psnr)
            line.add("ssim", m.ssim)
            if lr != nil { line.add("lr_psnr", m.lrPSNR) }
            if let count { line.add("count", count) }
            print(line.text)
        } else {
            var text = "\(name.padding(toLength: 24, withPad: " ", startingAt: 0)) PSNR \(format(m.psnr)) dB  SSIM \(String(format: "%.4f", m.ssim))"
            if lr != nil { text += "  LR-PSNR \(format(m.lrPSNR)) dB" }
            if let count { text += "  (\(count) images)" }
            print(text + "  [\(m.protocolName)]")
        }
    }

    func format(_ v: Double?) -> String {
        guard let v else { return "n/a" }
        return v.isFinite ? String(format: "%.4f", v) : "inf"
    }

    /// (name, output, reference, lr) for a file pair or for folders.
    func matchFiles() throws -> [(String, String, String, String?)] {
        let fm = FileManager.default
        func isDirectory(_ path: String) throws -> Bool {
            var dir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &dir) else { throw InputError("\(path): no such file or folder") }
            return dir.boolValue
        }
        let outIsDir = try isDirectory(output), refIsDir = try isDirectory(reference)
        if let lr { _ = try isDirectory(lr) }
        guard outIsDir == refIsDir else { throw ValidationError("--output and --reference must both be files or both be folders") }
        guard outIsDir else {
            return [((output as NSString).lastPathComponent, output, reference, lr)]
        }
        let names = try fm.contentsOfDirectory(atPath: output).filter { $0.lowercased().hasSuffix(".png") }.sorted()
        guard !names.isEmpty else { throw InputError("\(output): no PNG files") }
        return try names.map { name in
            let ref = (reference as NSString).appendingPathComponent(name)
            guard fm.fileExists(atPath: ref) else { throw InputError("\(ref): no reference for output \(name)") }
            var lrPath: String?
            if let lr {
                let candidates = [name, DIV2KNames.lowResolutionName(stem: DIV2KNames.stem(name), scale: scale)].map { (lr as NSString).appendingPathComponent($0) }
                guard let found = candidates.first(where: fm.fileExists(atPath:)) else {
                    throw InputError("no LR image for \(name) in \(lr) (tried \(candidates.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")))")
                }
                lrPath = found
            }
            return (name, (output as NSString).appendingPathComponent(name), ref, lrPath)
        }
    }
}
