// `ecdp metrics`: PSNR, SSIM, LR-PSNR and LPIPS of SR outputs against references, for one
// pair of files or two folders (paired by Evaluation's FolderEvaluation), always under a named protocol.
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
        --lpips alex|vgg|squeeze adds LPIPS v0.1 (8-bit RGB, the protocol's border crop). Its heads ship
        in Checkpoints/lpips/; the ImageNet backbone is torchvision's file, given with --lpips-backbone or
        found in $TORCH_HOME/hub/checkpoints/. Without one, LPIPS is null and the reason goes to stderr.
        """)

    @Option(name: .customLong("protocol"), help: "ecdp or basicsr.") var protocolName: String
    @Option(help: "Reference (HR) PNG file or folder.") var reference: String
    @Option(help: "Super-resolved PNG file or folder (the images being measured).") var sr: String?
    @Option(name: .customLong("output"), help: ArgumentHelp("Old name of --sr.", visibility: .hidden)) var oldOutput: String?
    @Option(help: "LR input PNG file or folder, for LR-PSNR.") var lr: String?
    @Option(help: "Super-resolution scale factor.") var scale = 4
    @Option(help: "Add LPIPS with this network: alex, vgg or squeeze.") var lpips: String?
    @Option(help: "The LPIPS backbone: torchvision's .pth (e.g. alexnet-owt-7be5be79.pth) or safetensors.") var lpipsBackbone: String?
    @Flag(help: "One JSON object per line.") var json = false

    /// The SR images: --sr, or the old --output (with a notice).
    var measured: String { sr ?? oldOutput! }

    func validate() throws {
        guard (sr == nil) != (oldOutput == nil) else { throw ValidationError("give the super-resolved images with --sr") }
        if oldOutput != nil { Deprecation.notice("--output", "--sr", command: "metrics") }
        guard MetricProtocol.named(protocolName) != nil else {
            throw ValidationError("unknown protocol '\(protocolName)'; choose one of: \(MetricProtocol.all.map(\.name).joined(separator: ", "))")
        }
        guard scale >= 1 else { throw ValidationError("--scale must be at least 1") }
        try LPIPSOption.validate(network: lpips, backbone: lpipsBackbone)
    }


    func run() throws {
        let proto = MetricProtocol.named(protocolName)!
        let pairs = try FolderEvaluation.pairs(output: measured, reference: reference, lr: lr, scale: scale)
        let perceptual = try LPIPSOption.load(network: lpips, backbone: lpipsBackbone)
        if !json { print("protocol: \(proto)") }
        var rows: [ImageMetrics] = []
        for pair in pairs {
            let metrics = try FolderEvaluation.evaluate(pair, under: proto, scale: scale, lpips: perceptual)
            rows.append(metrics)
            emit(pair.name, metrics)
        }
        if rows.count > 1 { emit("mean", FolderEvaluation.mean(rows, protocolName: proto.name), count: rows.count) }
    }

    func emit(_ name: String, _ m: ImageMetrics, count: Int? = nil) {
        if json {
            var line = JSONLine()
            line.add("image", name)
            line.add("protocol", m.protocolName)
            line.add("psnr", m.psnr)
            line.add("ssim", m.ssim)
            if lr != nil { line.add("lr_psnr", m.lrPSNR) }
            if let lpips {
                line.add("lpips", m.lpips)
                line.add("lpips_net", lpips)
            }
            if let count { line.add("count", count) }
            print(line.text)
        } else {
            var text = "\(name.padding(toLength: 24, withPad: " ", startingAt: 0)) PSNR \(format(m.psnr)) dB  SSIM \(String(format: "%.4f", m.ssim))"
            if lr != nil { text += "  LR-PSNR \(format(m.lrPSNR)) dB" }
            if let lpips { text += "  LPIPS-\(lpips) \(m.lpips.map { String(format: "%.4f", $0) } ?? "n/a")" }
            if let count { text += "  (\(count) images)" }
            print(text + "  [\(m.protocolName)]")
        }
    }

    func format(_ v: Double?) -> String {
        guard let v else { return "n/a" }
        return v.isFinite ? String(format: "%.4f", v) : "inf"
    }
}
