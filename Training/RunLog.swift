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

    /// Writes loss.svg: the training loss per step (thin) and its exponential moving average
    /// (thick; span a twentieth of the points, at least 5), validation losses (dots) from
    /// `validationFrom` on (earlier ones measure EMA weights that are still mostly the
    /// initial ones), on a log axis with decade ticks; the legend sits below the plot.
    public func drawLossCurve(title: String, validationFrom: Int = 0) throws {
        let w = 720.0, h = 400.0, left = 70.0, right = 20.0, top = 30.0, bottom = 80.0
        let validation = validationPoints.filter { $0.step >= validationFrom }
        let all = trainPoints + validation
        guard let maxStep = all.map(\.step).max(), maxStep > 0 else { return }
        let values = all.map(\.loss).filter { $0 > 0 && $0.isFinite }
        guard let lo = values.min(), let hi = values.max() else { return }
        let (l0, l1) = (floor(log10(lo) * 4) / 4, max(ceil(log10(hi) * 4) / 4, log10(lo) + 0.25))
        func x(_ s: Int) -> Double { left + (w - left - right) * Double(s) / Double(maxStep) }
        func y(_ v: Double) -> Double { top + (h - top - bottom) * (1 - (log10(max(v, lo)) - l0) / (l1 - l0)) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        let plotBottom = h - bottom
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(left)" y="18" font-size="13">\(title)</text>
        <line x1="\(left)" y1="\(plotBottom)" x2="\(w - right)" y2="\(plotBottom)" stroke="black"/>
        <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(plotBottom)" stroke="black"/>
        <text x="\((left + w - right) / 2)" y="\(plotBottom + 32)" text-anchor="middle">training step</text>
        <text transform="translate(16,\((top + plotBottom) / 2)) rotate(-90)" text-anchor="middle">loss per sample (Σ over pixels), log scale</text>

        """
        // Ticks: every decade, with 2× and 5× within it under two decades, more under 0.6.
        var ticks: [Double] = []
        for e in Int(floor(l0))...Int(ceil(l1)) {
            for m in (l1 - l0 < 0.6 ? [1.0, 1.5, 2, 3, 4, 5, 6, 7, 8, 9] : l1 - l0 < 2 ? [1.0, 2, 5] : [1.0]) {
                let v = m * pow(10, Double(e))
                if log10(v) >= l0 - 1e-9, log10(v) <= l1 + 1e-9 { ticks.append(v) }
            }
        }
        for v in ticks {
            svg += "<line x1=\"\(f(left - 4))\" y1=\"\(f(y(v)))\" x2=\"\(f(w - right))\" y2=\"\(f(y(v)))\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(String(format: "%g", v))</text>\n"
        }
        for k in 0...4 {
            let s = maxStep * k / 4
            svg += "<text x=\"\(f(x(s)))\" y=\"\(f(plotBottom + 14))\" text-anchor=\"middle\">\(s)</text>\n"
        }
        if trainPoints.count > 1 {
            let pts = trainPoints.map { "\(f(x($0.step))),\(f(y($0.loss)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"#9ecae1\" stroke-width=\"1\" points=\"\(pts)\"/>\n"
            let span = max(5.0, Double(trainPoints.count) / 20), alpha = 2 / (span + 1)
            var average = trainPoints[0].loss
            let smooth = trainPoints.map { p -> String in
                average += alpha * (p.loss - average)
                return "\(f(x(p.step))),\(f(y(average)))"
            }
            svg += "<polyline fill=\"none\" stroke=\"#08519c\" stroke-width=\"2\" points=\"\(smooth.joined(separator: " "))\"/>\n"
        }
        for p in validation {
            svg += "<circle cx=\"\(f(x(p.step)))\" cy=\"\(f(y(p.loss)))\" r=\"3.5\" fill=\"#e6550d\"/>\n"
        }
        let legend = plotBottom + 52
        svg += "<line x1=\"\(left)\" y1=\"\(legend - 4)\" x2=\"\(left + 24)\" y2=\"\(legend - 4)\" stroke=\"#9ecae1\"/>"
        svg += "<text x=\"\(left + 30)\" y=\"\(legend)\">training loss, each logged step</text>\n"
        svg += "<line x1=\"\(left + 210)\" y1=\"\(legend - 4)\" x2=\"\(left + 234)\" y2=\"\(legend - 4)\" stroke=\"#08519c\" stroke-width=\"2\"/>"
        svg += "<text x=\"\(left + 240)\" y=\"\(legend)\">its moving average (exponential)</text>\n"
        svg += "<circle cx=\"\(left + 452)\" cy=\"\(legend - 4)\" r=\"3.5\" fill=\"#e6550d\"/>"
        svg += "<text x=\"\(left + 460)\" y=\"\(legend)\">validation loss (EMA weights)</text>\n</svg>\n"
        try svg.write(toFile: path("loss.svg"), atomically: true, encoding: .utf8)
    }
}
