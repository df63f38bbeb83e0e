// `ecdp report`: one HTML page for a training run, an evaluation, a table run or the demo
// folder, recognised by what the folder holds (docs/cli.md).
import Foundation
import Grad
import Imaging

public enum ReportError: Error, CustomStringConvertible {
    case unrecognised(String)
    public var description: String {
        switch self {
        case let .unrecognised(path):
            return "\(path): not a training run (metrics.jsonl + config.yaml), an evaluation (summary.json), "
                + "a table run (tables/*.json) or a demo folder (train/ + sr.png)"
        }
    }
}

public enum Report {
    /// The page for `folder`. `hr`: the HR images of an evaluation (for its side-by-side crops).
    public static func build(_ folder: String, hr: String? = nil) throws -> HTMLDocument {
        let fm = FileManager.default
        func has(_ name: String) -> Bool { fm.fileExists(atPath: (folder as NSString).appendingPathComponent(name)) }
        if has("summary.json") { return try EvaluationReport(folder: folder, hrFolder: hr).document() }
        if has("tables") || ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).contains(where: { $0.hasSuffix(".json") && has(($0 as NSString).deletingPathExtension + ".md") }) {
            return try TablesReport(folder: has("tables") ? (folder as NSString).appendingPathComponent("tables") : folder).document()
        }
        if has("train"), has("sr.png") { return try DemoReport(folder: folder).document() }
        if has("metrics.jsonl"), has("config.yaml") { return try RunReport(folder: folder).document() }
        throw ReportError.unrecognised(folder)
    }

    /// PNG bytes of an image `[3, H, W]` in [0, 1].
    static func png(_ image: Tensor) throws -> Data { try PNG.encoded(image) }

    /// The image without the black bars some photographs carry (rows and columns at the
    /// border that are all near-black), as (top, left, height, width).
    public static func contentBox(_ image: Tensor) -> (y: Int, x: Int, height: Int, width: Int) {
        let h = image.shape[1], w = image.shape[2], v = image.scalars
        func dark(_ i: Int, _ j: Int) -> Bool { (0..<3).allSatisfy { v[($0 * h + i) * w + j] < 0.03 } }
        var top = 0, bottom = h, left = 0, right = w
        while top < bottom - 1, (0..<w).allSatisfy({ dark(top, $0) }) { top += 1 }
        while bottom - 1 > top, (0..<w).allSatisfy({ dark(bottom - 1, $0) }) { bottom -= 1 }
        while left < right - 1, (top..<bottom).allSatisfy({ dark($0, left) }) { left += 1 }
        while right - 1 > left, (top..<bottom).allSatisfy({ dark($0, right - 1) }) { right -= 1 }
        return (top, left, bottom - top, right - left)
    }

    static func cropped(_ image: Tensor, to box: (y: Int, x: Int, height: Int, width: Int)) -> Tensor {
        image.slice(start: [0, box.y, box.x], size: [3, box.height, box.width])
    }

    /// The `side`² region of `image` with the most detail (largest variance of its pixels,
    /// on a grid of quarter-side steps): where differences between methods show.
    public static func detailBox(_ image: Tensor, side: Int) -> (y: Int, x: Int, side: Int) {
        let content = contentBox(image)
        let h = image.shape[1], w = image.shape[2], s = min(side, content.height, content.width)
        let values = image.scalars
        var best = (y: content.y + (content.height - s) / 2, x: content.x + (content.width - s) / 2), bestVariance = -1.0
        for y in stride(from: content.y, through: content.y + content.height - s, by: max(1, s / 4)) {
            for x in stride(from: content.x, through: content.x + content.width - s, by: max(1, s / 4)) {
                var sum = 0.0, squares = 0.0
                for c in 0..<3 { for i in stride(from: y, to: y + s, by: 2) { for j in stride(from: x, to: x + s, by: 2) {
                    let v = Double(values[(c * h + i) * w + j]); sum += v; squares += v * v
                } } }
                let n = Double(3 * ((s + 1) / 2) * ((s + 1) / 2))
                let variance = squares / n - (sum / n) * (sum / n)
                if variance > bestVariance { bestVariance = variance; best = (y, x) }
            }
        }
        return (best.y, best.x, s)
    }

    /// `box` of an image, enlarged `zoom`× by pixel repetition (a detail view).
    static func detail(_ image: Tensor, box: (y: Int, x: Int, side: Int), zoom: Int) -> Tensor {
        let s = box.side
        let crop = image.slice(start: [0, box.y, box.x], size: [3, s, s])
        guard zoom > 1 else { return crop }
        return crop.reshaped([1, 3, s, s]).resized(height: s * zoom, width: s * zoom, mode: .nearest).reshaped([3, s * zoom, s * zoom])
    }

    static func json(_ path: String) -> Any? {
        FileManager.default.contents(atPath: path).flatMap { try? JSONSerialization.jsonObject(with: $0) }
    }

    static func jsonLines(_ path: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func number(_ v: Any?, digits: Int) -> String {
        guard let d = (v as? Double) ?? (v as? Int).map(Double.init), d.isFinite else { return "–" }
        return String(format: "%.\(digits)f", d)
    }
}
