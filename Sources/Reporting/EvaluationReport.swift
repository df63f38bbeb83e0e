// The page of an `ecdp eval` folder: the summary with its protocol in the caption, every
// image's row (sortable), and side-by-side details (bicubic | SR | HR, enlarged)
// of the best and worst images by PSNR for the first sampler.
import Foundation
import Grad
import Imaging

struct EvaluationReport {
    let folder: String
    let hrFolder: String?

    func path(_ parts: String...) -> String { parts.reduce(folder) { ($0 as NSString).appendingPathComponent($1) } }

    func document() throws -> HTMLDocument {
        var doc = HTMLDocument(title: "Evaluation: \((folder as NSString).lastPathComponent)")
        let rows = ((Report.json(path("summary.json")) as? [String: Any])?["rows"] as? [[String: Any]]) ?? []
        guard let first = rows.first else { throw ReportError.unrecognised(folder) }
        let checkpoint = (first["checkpoint"] as? [String: Any]) ?? [:]
        let machine = (first["machine"] as? [String: Any]) ?? [:]
        doc.paragraph("Model \(checkpoint["name"] ?? "?") (SHA-256 \(String(describing: checkpoint["sha256"] ?? "?").prefix(12))…, "
            + "\(first["params"] ?? "?") parameters); \(first["images"] ?? "?") images, ×\(first["scale"] ?? "?"); "
            + "\(machine["cpu"] ?? "?"), \(machine["threads"] ?? "?") threads.")
        doc.heading("Summary")
        let caption = "Protocol: \(first["protocol_description"] ?? first["protocol"] ?? "?"). Mean ± standard deviation over images."
        doc.table(caption: caption, header: ["solver", "τ", "x_T", "seeds", "PSNR (dB)", "SSIM", "LR-PSNR (dB)", "LPIPS", "NFE", "s / image"],
                  rows: rows.map { r in
                      func metric(_ name: String, _ digits: Int) -> String {
                          guard r["\(name)_mean"] is Double else { return "–" }
                          return Report.number(r["\(name)_mean"], digits: digits) + " ± " + Report.number(r["\(name)_std_images"], digits: digits)
                      }
                      return ["\(r["solver"] ?? "")", Report.number(r["temperature"], digits: 2), "\(r["x_t"] ?? "")",
                              ((r["seeds"] as? [Any]) ?? []).map { "\($0)" }.joined(separator: ","),
                              metric("psnr", 2), metric("ssim", 4), metric("lr_psnr", 2), metric("lpips", 4),
                              Report.number(r["nfe"], digits: 0), Report.number(r["seconds_per_image"], digits: 2)]
                  })
        let table = try perImageRows()
        doc.heading("Every image")
        doc.table(caption: "Click a column to sort. Same protocol as above.", header: table.header, rows: table.rows, sortable: true,
                  id: "per-image")
        try details(&doc, table)
        return doc
    }

    func perImageRows() throws -> (header: [String], rows: [[String]]) {
        let text = try String(contentsOfFile: path("per_image.csv"), encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first else { return ([], []) }
        return (header, Array(lines.dropFirst()))
    }

    /// Best and worst image by PSNR for the first sampler that is not the bicubic baseline.
    func details(_ doc: inout HTMLDocument, _ table: (header: [String], rows: [[String]])) throws {
        guard let image = table.header.firstIndex(of: "image"), let solver = table.header.firstIndex(of: "solver"),
              let psnr = table.header.firstIndex(of: "psnr"), let output = table.header.firstIndex(of: "output") else { return }
        let sampled = table.rows.filter { $0[solver] != "bicubic" }
        guard let chosen = sampled.first?[solver] else { return }
        let rows = sampled.filter { $0[solver] == chosen }.sorted { (Double($0[psnr]) ?? 0) > (Double($1[psnr]) ?? 0) }
        guard let best = rows.first, let worst = rows.last else { return }
        doc.heading("Details: best and worst image (\(chosen))")
        let hr = hrFolder ?? (FileManager.default.fileExists(atPath: path("hr")) ? path("hr") : nil)
        guard let hr else {
            doc.paragraph("Run `ecdp report \(folder) --hr HR_FOLDER` to show the images beside their references.", className: "note")
            return
        }
        for (label, row) in [("best", best), ("worst", worst)] where !(label == "worst" && rows.count == 1) {
            let name = row[image], stem = (name as NSString).deletingPathExtension
            let reference = try PNG.read((hr as NSString).appendingPathComponent(name))
            let sr = try PNG.read(path(row[output]))
            let bicubicPath = path("sr", "bicubic", "\(stem).png")
            let h = min(reference.shape[1], sr.shape[1]), w = min(reference.shape[2], sr.shape[2])
            let hrImage = reference.slice(start: [0, 0, 0], size: [3, h, w])
            let box = Report.detailBox(hrImage, side: 96)
            var panels: [(Data, String)] = []
            if FileManager.default.fileExists(atPath: bicubicPath) {
                panels.append((try Report.png(Report.detail(try PNG.read(bicubicPath), box: box, zoom: 3)), "bicubic (μ(y))"))
            }
            panels.append((try Report.png(Report.detail(sr, box: box, zoom: 3)), "ECDP, \(chosen), PSNR \(Report.number(Double(row[psnr]), digits: 2)) dB"))
            panels.append((try Report.png(Report.detail(hrImage, box: box, zoom: 3)), "HR reference"))
            doc.figures(panels, title: "\(label): \(name) — its most detailed 96², enlarged 3×")
        }
    }
}
