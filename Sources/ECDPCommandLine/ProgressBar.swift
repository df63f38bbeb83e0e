// A one-line terminal progress bar: fraction done, step counter, rate, ETA and
// caller-supplied fields (e.g. the loss). Redraws in place on a terminal; prints one
// line per update (throttled) when the output is a file or pipe.
import ECDP
import Foundation

struct ProgressBar {
    let total: Int
    let label: String
    /// Where counting started (a resumed run starts mid-way; rates use done − start).
    let startCount: Int
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let isTerminal = isatty(2) != 0

    init(total: Int, label: String, start: Int = 0) {
        self.total = total
        self.label = label
        self.startCount = start
    }

    /// Prints a line above the bar.
    func note(_ text: String) {
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + text + "\n").utf8))
    }

    mutating func update(_ done: Int, fields: [(String, String)] = []) {
        let now = Date()
        let finished = done >= total
        let interval: TimeInterval = isTerminal ? 0.1 : 2
        guard finished || now.timeIntervalSince(lastDraw) >= interval else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done - startCount) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let width = 24
        let filled = total > 0 ? min(width, width * done / total) : width
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let extra = fields.map { "\($0.0) \($0.1)" }.joined(separator: "  ")
        let line = "\(label) \(bar) \(done)/\(total)  \(String(format: "%.2f it/s", rate))  ETA \(Self.clock(eta))  \(extra)"
        if isTerminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + (finished ? "\n" : "")).utf8))
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

/// Progress within one super-resolution: how far the sampler has come from t = T to its end
/// time (per tile when tiled), in thousandths, with the network evaluations so far.
final class SamplingProgress {
    private var bar: ProgressBar?
    private var evaluations = 0

    func watch(_ model: ECDPModel) {
        model.evaluationObserver = { [unowned self] t in
            evaluations += 1
            let done = Int(((300 - min(max(t, 0.1), 300)) / 299.9 * 1000).rounded())
            bar?.update(min(done, 999), fields: [("evaluations", "\(evaluations)"), ("t", String(format: "%.1f", t))])
        }
    }

    func start(label: String) {
        bar = ProgressBar(total: 1000, label: label)
        evaluations = 0
    }
}
