// The page of a table run (`ecdp tables … --out OUT`): every table of OUT/tables/ with the
// paper's numbers beside ours, what its scale shortens, and the orderings checked.
import Foundation

struct TablesReport {
    let folder: String

    func document() throws -> HTMLDocument {
        var doc = HTMLDocument(title: "Tables: \(((folder as NSString).deletingLastPathComponent as NSString).lastPathComponent)")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted()
        guard !names.isEmpty else { throw ReportError.unrecognised(folder) }
        for name in names {
            guard let t = Report.json((folder as NSString).appendingPathComponent(name)) as? [String: Any] else { continue }
            doc.heading("\(t["name"] ?? name): \(t["title"] ?? "")", id: "\(t["name"] ?? name)")
            doc.list(["Scale: \(t["scale"] ?? "?") — \(t["scale_note"] ?? "")", "Data: \(t["data"] ?? "")",
                      "Machine: \(t["machine"] ?? ""); wall time \(Report.number(t["wall_seconds"], digits: 0)) s", "Paper: \(t["paper_source"] ?? "")"])
            let columns = (t["columns"] as? [[String: Any]]) ?? []
            var header = [""]
            for c in columns { header += ["\(c["header"] ?? "")", "\(c["header"] ?? "") (paper)"] }
            let rows = ((t["rows"] as? [[String: Any]]) ?? []).map { row -> [String] in
                let ours = (row["ours"] as? [String: Any]) ?? [:], paper = (row["paper"] as? [String: Any]) ?? [:]
                var cells = ["\(row["label"] ?? "")"]
                for c in columns {
                    let key = "\(c["key"] ?? "")"
                    switch ours[key] {
                    case let v as [String: Any]:
                        let value = Report.number(v["value"], digits: 4)
                        cells.append(v["spread"].map { value + " ± " + Report.number($0, digits: 4) } ?? value)
                    case let s as String: cells.append(s)
                    default: cells.append("–")
                    }
                    cells.append(paper[key].map { "\($0)" } ?? "–")
                }
                return cells
            }
            doc.table(caption: "Protocol: \(t["protocol"] ?? "?")", header: header, rows: rows)
            for check in (t["checks"] as? [[String: Any]]) ?? [] {
                let verdict = (check["holds"] as? Bool).map { $0 ? "holds" : "does not hold" }
                    ?? ((check["pending"] as? Bool) == false ? "cannot be checked at this scale" : "cannot be checked yet")
                doc.paragraph("\(check["claim"] ?? ""): \(verdict) — \(check["detail"] ?? "")")
            }
            for remark in (t["remarks"] as? [String]) ?? [] { doc.paragraph(remark, className: "note") }
            let svg = (folder as NSString).appendingPathComponent((name as NSString).deletingPathExtension + ".svg")
            if let text = try? String(contentsOfFile: svg, encoding: .utf8) { doc.svg(text, caption: "\(t["name"] ?? name)") }
        }
        return doc
    }
}
