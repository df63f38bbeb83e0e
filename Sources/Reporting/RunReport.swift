// The page of a training run: the loss curve, the validation metrics over training (with
// their protocol), the learning rate, the latest sample grid and the config.
import Foundation
import Imaging

struct RunReport {
    let folder: String

    func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }

    func document() throws -> HTMLDocument {
        var doc = HTMLDocument(title: "Training run: \((folder as NSString).lastPathComponent)")
        try add(to: &doc)
        return doc
    }

    func add(to doc: inout HTMLDocument) throws {
        let records = Report.jsonLines(path("metrics.jsonl"))
        let steps = records.filter { $0["loss"] != nil }
        if let last = steps.last {
            doc.paragraph("\(last["step"] ?? "?") steps, epoch \(last["epoch"] ?? "?"), \(Report.number(last["seconds"], digits: 0)) s of training "
                + "(this session); last loss \(Report.number(last["loss"], digits: 1)) (per sample, Σ over pixels), learning rate \((last["lr"] as? Double).map { String(format: "%.3g", $0) } ?? "?").")
        }
        if let svg = try? String(contentsOfFile: path("loss.svg"), encoding: .utf8) {
            doc.heading("Loss")
            doc.svg(svg, caption: "Training loss (per sample, summed over pixels; log scale) and validation loss over steps.")
        }
        let validation = records.filter { $0["validation_loss"] != nil }
        if !validation.isEmpty {
            doc.heading("Validation")
            let first = validation[0]
            doc.table(caption: "EMA weights on the validation crops; protocol \(first["val_protocol"] ?? "?"), sampler \(first["val_solver"] ?? "?"), "
                        + "τ = \(first["val_temperature"] ?? "?").",
                      header: ["step", "validation loss", "PSNR (dB)", "SSIM", "LR-PSNR (dB)", "LPIPS"],
                      rows: validation.map { v in
                          ["\(v["step"] ?? "")", Report.number(v["validation_loss"], digits: 1), Report.number(v["val_psnr"], digits: 2),
                           Report.number(v["val_ssim"], digits: 4), Report.number(v["val_lr_psnr"], digits: 2), Report.number(v["val_lpips"], digits: 4)]
                      })
        }
        let grids = ((try? FileManager.default.contentsOfDirectory(atPath: path("samples"))) ?? []).filter { $0.hasSuffix(".png") }.sorted()
        if !grids.isEmpty {
            doc.heading("Samples over training")
            doc.paragraph("EMA weights on the validation crops, DPM-Solver-3 from the run's fixed latent at three temperatures; "
                + "the last three grids, newest first.", className: "note")
        }
        for grid in grids.suffix(3).reversed() {
            guard let image = try? PNG.read(path("samples/\(grid)")) else { continue }
            // The grid's columns: bicubic | τ = 0 | τ = 0.9 | τ = 1 | HR, one row per crop (square cells).
            let captions = ["bicubic (μ(y))", "τ = 0", "τ = 0.9", "τ = 1", "HR"]
            let cell = image.shape[2] / captions.count
            guard cell > 0 else { continue }
            let step = Int(grid.filter(\.isNumber)) ?? 0
            for row in 0..<(image.shape[1] / cell) {
                let panels = try captions.enumerated().map { c, caption in
                    (try Report.png(image.slice(start: [0, row * cell, c * cell], size: [3, cell, cell])), caption)
                }
                doc.figures(panels, title: row == 0 ? "step \(step)" : nil)
            }
        }
        if let config = try? String(contentsOfFile: path("config.yaml"), encoding: .utf8) {
            doc.heading("Config")
            doc.preformatted(config)
        }
    }
}
