// An SVG chart of the BC ablation (Fig. 3 of the BC paper): one panel per ablation, x on a
// log₂ axis (R or K), the mean gain with ± one standard deviation as error bars, a dashed
// zero line (no gain over a random x_T). Self-contained SVG, no scripts or fonts to fetch.
import Foundation

struct AblationChart {
    var title: String
    /// (x-axis label, points (x, mean, sd)).
    var panels: [(String, [(Double, Double, Double)])]
    var yLabel: String

    var svg: String {
        let panelWidth = 340.0, height = 300.0, top = 50.0, bottom = 50.0, left = 60.0, right = 20.0
        let width = Double(panels.count) * (panelWidth + left + right)
        let all = panels.flatMap(\.1)
        var lo = min(0, all.map { $0.1 - $0.2 }.min() ?? 0), hi = max(0, all.map { $0.1 + $0.2 }.max() ?? 1)
        if hi - lo < 1e-9 { hi = lo + 1 }
        let pad = (hi - lo) * 0.08
        lo -= pad; hi += pad
        let plotHeight = height - top - bottom
        func y(_ v: Double) -> Double { top + (hi - v) / (hi - lo) * plotHeight }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(Int(width / 2))\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">\(Self.escaped(title))</text>\n"
        for (i, panel) in panels.enumerated() {
            let x0 = Double(i) * (panelWidth + left + right) + left
            let xs = panel.1.map { log2(max($0.0, 1e-9)) }
            let xmin = (xs.min() ?? 0) - 0.5, xmax = (xs.max() ?? 1) + 0.5
            func x(_ v: Double) -> Double { x0 + (log2(max(v, 1e-9)) - xmin) / (xmax - xmin) * panelWidth }
            s += "<rect x=\"\(f(x0))\" y=\"\(f(top))\" width=\"\(f(panelWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#888\"/>\n"
            // y ticks: 5 levels.
            for k in 0...4 {
                let v = lo + (hi - lo) * Double(k) / 4
                s += "<line x1=\"\(f(x0 - 4))\" y1=\"\(f(y(v)))\" x2=\"\(f(x0))\" y2=\"\(f(y(v)))\" stroke=\"#888\"/>"
                s += "<text x=\"\(f(x0 - 6))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(String(format: "%.3f", v))</text>\n"
            }
            s += "<line x1=\"\(f(x0))\" y1=\"\(f(y(0)))\" x2=\"\(f(x0 + panelWidth))\" y2=\"\(f(y(0)))\" stroke=\"#aaa\" stroke-dasharray=\"4 3\"/>\n"
            let points = panel.1.map { (x($0.0), y($0.1)) }
            s += "<polyline fill=\"none\" stroke=\"#1f5fa8\" stroke-width=\"2\" points=\"" + points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ") + "\"/>\n"
            for p in panel.1 {
                let px = x(p.0)
                s += "<line x1=\"\(f(px))\" y1=\"\(f(y(p.1 - p.2)))\" x2=\"\(f(px))\" y2=\"\(f(y(p.1 + p.2)))\" stroke=\"#1f5fa8\"/>"
                s += "<circle cx=\"\(f(px))\" cy=\"\(f(y(p.1)))\" r=\"3.5\" fill=\"#1f5fa8\"/>"
                s += "<text x=\"\(f(px))\" y=\"\(f(top + plotHeight + 16))\" text-anchor=\"middle\">\(Int(p.0))</text>\n"
            }
            s += "<text x=\"\(f(x0 + panelWidth / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">\(Self.escaped(panel.0)), log scale</text>\n"
            s += "<text transform=\"translate(\(f(x0 - 48)),\(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escaped(yLabel))</text>\n"
        }
        return s + "</svg>\n"
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func escaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
