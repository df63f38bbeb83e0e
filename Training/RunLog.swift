// A run folder's log: metrics as JSON lines (`metrics.jsonl`) and an SVG loss curve
// (`loss.svg`) redrawn from them.
import Foundation

public final class RunLog {
    public let directory: String
    private var trainPoints: [(step: Int, loss: Double)] = []
    private var validationPoints: [(step: Int, loss: Double)] = []

    public init(directory: String) {
        self.directory = directory
        // A resumed run keeps its earlier points.
        if let text = try? String(contentsOfFile: path("metrics.jsonl"), encoding: .utf8) {
            for line in text.split(separator: "\n") {
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let step = obj["step"] as? Int else { continue }
                if let l = obj["loss"] as? Double { trainPoints.append((step, l)) }
                if let l = obj["validation_loss"] as? Double { validationPoints.append((step, l)) }
            }
        }
    }

    func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    /// Appends one JSON object (keys sorted) as a line of metrics.jsonl.
    public func append(_ record: [String: Any]) throws {
        if let step = record["step"] as? Int {
            if let l = record["loss"] as? Double { trainPoints.append((step, l)) }
            if let l = record["validation_loss"] as? Double { validationPoints.append((step, l)) }
        }
        let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        let url = URL(fileURLWithPath: path("metrics.jsonl"))
        if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: data + Data("\n".utf8))
    }

    /// Drops records after `step` (a resumed run repeats nothing it logged after its
    /// last checkpoint).
    public func truncate(after step: Int) throws {
        let url = URL(fileURLWithPath: path("metrics.jsonl"))
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return }
        let kept = text.split(separator: "\n").filter { line in
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let s = obj["step"] as? Int else { return true }
            return s <= step
        }
        try (kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).write(to: url, atomically: true, encoding: .utf8)
        trainPoints.removeAll { $0.step > step }
        validationPoints.removeAll { $0.step > step }
    }

    /// Writes loss.svg: the training loss (thin, with a moving average) and validation
    /// losses (dots), log-scaled y.
    public func drawLossCurve(title: String) throws {
        let w = 720.0, h = 360.0, left = 60.0, right = 20.0, top = 30.0, bottom = 40.0
        let all = trainPoints + validationPoints
        guard let maxStep = all.map(\.step).max(), maxStep > 0 else { return }
        let values = all.map(\.loss).filter { $0 > 0 && $0.isFinite }
        guard let lo = values.min(), let hi = values.max() else { return }
        let (l0, l1) = (log10(lo), max(log10(hi), log10(lo) + 1e-6))
        func x(_ s: Int) -> Double { left + (w - left - right) * Double(s) / Double(maxStep) }
        func y(_ v: Double) -> Double { top + (h - top - bottom) * (1 - (log10(max(v, lo)) - l0) / (l1 - l0)) }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(left)" y="18" font-size="13">\(title)</text>
        <line x1="\(left)" y1="\(h - bottom)" x2="\(w - right)" y2="\(h - bottom)" stroke="black"/>
        <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(h - bottom)" stroke="black"/>
        <text x="\(w / 2)" y="\(h - 8)" text-anchor="middle">step</text>
        <text x="\(w - right)" y="\(h - bottom + 14)" text-anchor="end">\(maxStep)</text>
        <text x="\(left - 4)" y="\(top + 4)" text-anchor="end">\(String(format: "%.3g", hi))</text>
        <text x="\(left - 4)" y="\(h - bottom)" text-anchor="end">\(String(format: "%.3g", lo))</text>

        """
        if trainPoints.count > 1 {
            let pts = trainPoints.map { "\(String(format: "%.1f", x($0.step))),\(String(format: "%.1f", y($0.loss)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"#9ecae1\" stroke-width=\"1\" points=\"\(pts)\"/>\n"
            let k = max(1, trainPoints.count / 50)
            var smooth: [String] = []
            for i in stride(from: 0, to: trainPoints.count, by: 1) where i >= k - 1 {
                let window = trainPoints[(i - k + 1)...i]
                let m = window.map(\.loss).reduce(0, +) / Double(window.count)
                smooth.append("\(String(format: "%.1f", x(trainPoints[i].step))),\(String(format: "%.1f", y(m)))")
            }
            svg += "<polyline fill=\"none\" stroke=\"#08519c\" stroke-width=\"2\" points=\"\(smooth.joined(separator: " "))\"/>\n"
        }
        for p in validationPoints {
            svg += "<circle cx=\"\(String(format: "%.1f", x(p.step)))\" cy=\"\(String(format: "%.1f", y(p.loss)))\" r=\"3.5\" fill=\"#e6550d\"/>\n"
        }
        svg += "<text x=\"\(w - right)\" y=\"\(top)\" text-anchor=\"end\" fill=\"#08519c\">training loss (moving average)</text>\n"
        svg += "<text x=\"\(w - right)\" y=\"\(top + 14)\" text-anchor=\"end\" fill=\"#e6550d\">validation loss</text>\n</svg>\n"
        try svg.write(toFile: path("loss.svg"), atomically: true, encoding: .utf8)
    }
}
