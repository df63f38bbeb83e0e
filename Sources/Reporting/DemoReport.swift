// The page `make demo` ends with: the brief training run, then the super-resolved image
// beside bicubic and the reference, and the metrics with their protocols and settings.
import Foundation
import Grad
import Imaging

struct DemoReport {
    let folder: String

    func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }

    func document() throws -> HTMLDocument {
        var doc = HTMLDocument(title: "ECDP demo")
        let metrics = Report.jsonLines(path("metrics.jsonl"))
        let settings = metrics.first
        doc.paragraph("A held-out photograph (\(settings?["image"] ?? "?")) downscaled ×4 with MATLAB bicubic, super-resolved by the shipped "
            + "`small` model with \(settings?["solver"] ?? "?") at temperature τ = \(Report.number(settings?["temperature"], digits: 2)), seed 0; "
            + "one image, so the numbers show the pipeline, not the method's quality (docs/results.md has the tables).")
        doc.heading("Super-resolution")
        var panels: [(Data, String)] = []
        let reference = (settings?["image"] as? String).flatMap { try? PNG.read($0) }
        // Shown without the photograph's own black bars (the same crop for every panel).
        let content = reference.map(Report.contentBox)
        func shown(_ image: Tensor) -> Tensor { content.map { Report.cropped(image, to: $0) } ?? image }
        for (file, caption) in [("bicubic.png", "bicubic (μ(y))"), ("sr.png", "ECDP")] {
            if let image = try? PNG.read(path(file)) { panels.append((try Report.png(shown(image)), caption)) }
        }
        if let reference { panels.append((try Report.png(shown(reference)), "HR reference")) }
        doc.figures(panels)
        var details: [(Data, String)] = []
        if let reference {
            let box = Report.detailBox(reference, side: 64)
            for (file, caption) in [("bicubic.png", "bicubic"), ("sr.png", "ECDP")] {
                if let image = try? PNG.read(path(file)) { details.append((try Report.png(Report.detail(image, box: box, zoom: 4)), caption)) }
            }
            details.append((try Report.png(Report.detail(reference, box: box, zoom: 4)), "HR"))
        }
        doc.figures(details, title: "The most detailed 64² of the image, enlarged 4×")
        doc.heading("Metrics")
        doc.table(caption: "One image; each row under its protocol (ecdp: RGB, no border crop; basicsr: Y channel, border crop 4).",
                  header: ["method", "protocol", "PSNR (dB)", "SSIM", "LR-PSNR (dB)"],
                  rows: metrics.map { ["\($0["method"] ?? "")", "\($0["protocol"] ?? "")", Report.number($0["psnr"], digits: 2),
                                       Report.number($0["ssim"], digits: 4), Report.number($0["lr_psnr"], digits: 2)] })
        doc.heading("The brief training run")
        try RunReport(folder: path("train")).add(to: &doc)
        return doc
    }
}
