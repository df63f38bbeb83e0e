// A filled table and its three renderings (`tables/NAME.md`, `.csv`, `.json`), each headed
// by what the numbers mean: the scale and what it shortens, the data set, the protocol, the
// machine and the wall time. The paper's number sits in the column beside ours; a row whose
// steps have not finished says "pending" instead of a number.
import Foundation

public struct ResultTable: Sendable {
    public enum Cell: Sendable, Equatable {
        case number(Double, spread: Double?)
        case text(String)
        case pending
        case missing
    }

    public struct Column: Sendable {
        public var key: String
        public var header: String
        public var digits: Int
        /// Whether the paper's value gets a column beside ours.
        public var hasPaperColumn: Bool
    }

    public struct Row: Sendable {
        public var id: String
        public var label: String
        public var cells: [String: Cell]
        public var paper: [String: Double]
        public var note: String?
    }

    public struct CheckResult: Sendable {
        public var claim: String
        /// nil when it cannot be decided (a value is pending or not computed).
        public var holds: Bool?
        /// Undecided only because a value is still pending (it will be decided later).
        public var pending: Bool
        public var detail: String
    }

    public var name: String
    public var title: String
    public var source: String
    public var scale: String
    public var scaleNote: String
    public var data: String
    public var protocolText: String
    public var machine: String
    public var wallSeconds: Double
    public var columns: [Column]
    public var rows: [Row]
    public var checks: [CheckResult] = []
    /// Paragraphs after the table (how an ablation is computed, what "spread" means).
    public var remarks: [String] = []
    public var svg: String?

    static func format(_ cell: Cell?, digits: Int, spread: Bool) -> String {
        switch cell {
        case let .number(v, s)?:
            guard v.isFinite else { return "–" }
            let main = digits == 0 ? grouped(v) : String(format: "%.\(digits)f", v)
            if spread, let s, s.isFinite, s > 0 { return main + " ± " + String(format: "%.\(digits)f", s) }
            return main
        case let .text(t)?: return t
        case .pending?: return "pending"
        case .missing?, nil: return "–"
        }
    }

    /// 5766630 → "5,766,630".
    static func grouped(_ v: Double) -> String {
        let digits = String(Int(v.rounded()))
        var out = ""
        for (i, ch) in digits.reversed().enumerated() {
            if i > 0, i % 3 == 0, ch != "-" { out.append(",") }
            out.append(ch)
        }
        return String(out.reversed())
    }

    var header: [String] {
        [
            "Scale: **\(scale)** — \(scaleNote)",
            "Data: \(data)",
            "Protocol: \(protocolText)",
            "Machine: \(machine); wall time of the steps behind this table: \(Self.duration(wallSeconds))",
            "Paper: \(source)",
        ]
    }

    public var markdown: String {
        var lines = ["# \(name): \(title)", ""]
        lines += header.map { "- \($0)" }
        lines.append("")
        var heads = ["", ]
        for c in columns { heads.append(c.header); if c.hasPaperColumn { heads.append("\(c.header) (paper)") } }
        lines.append("| " + heads.joined(separator: " | ") + " |")
        lines.append("|" + String(repeating: "---|", count: heads.count))
        for row in rows {
            var cells = [row.label + (row.note.map { " — \($0)" } ?? "")]
            for c in columns {
                cells.append(Self.format(row.cells[c.key], digits: c.digits, spread: true))
                // The paper's number with the paper's own precision (0.79, not 0.7900).
                if c.hasPaperColumn { cells.append(row.paper[c.key].map { c.digits == 0 ? Self.grouped($0) : "\($0)" } ?? "–") }
            }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        if !checks.isEmpty {
            lines += ["", "Orderings the paper reports, checked on these numbers:", ""]
            for c in checks {
                let verdict = c.holds.map { $0 ? "**holds**" : "**does not hold**" }
                    ?? (c.pending ? "cannot be checked yet" : "cannot be checked at this scale")
                lines.append("- \(c.claim): \(verdict) — \(c.detail)")
            }
        }
        for r in remarks { lines += ["", r] }
        return lines.joined(separator: "\n") + "\n"
    }

    public var csv: String {
        var heads = ["id", "label"]
        for c in columns {
            heads += [c.key, "\(c.key)_spread"]
            if c.hasPaperColumn { heads.append("\(c.key)_paper") }
        }
        var lines = [heads.joined(separator: ",")]
        for row in rows {
            var cells = [row.id, Self.quoted(row.label)]
            for c in columns {
                switch row.cells[c.key] {
                case let .number(v, s)?: cells += [v.isFinite ? "\(v)" : "", s.map { "\($0)" } ?? ""]
                case let .text(t)?: cells += [Self.quoted(t), ""]
                case .pending?: cells += ["pending", ""]
                default: cells += ["", ""]
                }
                if c.hasPaperColumn { cells.append(row.paper[c.key].map { "\($0)" } ?? "") }
            }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public var json: String {
        func value(_ cell: Cell?) -> Any {
            switch cell {
            case let .number(v, s)?: return v.isFinite ? (s.map { ["value": v, "spread": $0] as [String: Any] } ?? ["value": v]) : NSNull()
            case let .text(t)?: return t
            case .pending?: return "pending"
            default: return NSNull()
            }
        }
        let object: [String: Any] = [
            "name": name, "title": title, "paper_source": source, "scale": scale, "scale_note": scaleNote, "data": data,
            "protocol": protocolText, "machine": machine, "wall_seconds": wallSeconds,
            "columns": columns.map { ["key": $0.key, "header": $0.header] },
            "rows": rows.map { row -> [String: Any] in
                var o: [String: Any] = ["id": row.id, "label": row.label, "paper": row.paper]
                o["ours"] = Dictionary(uniqueKeysWithValues: columns.map { ($0.key, value(row.cells[$0.key])) })
                if let n = row.note { o["note"] = n }
                return o
            },
            "checks": checks.map { ["claim": $0.claim, "holds": $0.holds.map { $0 as Any } ?? NSNull(), "pending": $0.pending,
                                    "detail": $0.detail] as [String: Any] },
            "remarks": remarks,
        ]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func quoted(_ s: String) -> String {
        s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%d h %02d min", s / 3600, s / 60 % 60) }
        if s >= 60 { return String(format: "%d min %02d s", s / 60, s % 60) }
        return "\(s) s"
    }
}
