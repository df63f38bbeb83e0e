// A sheet of images with a caption under each and a title, as one SVG file with the images
// embedded (PNG, base64): labelled comparisons and sample grids that any browser shows,
// without a font rasterizer of our own. The PNG files stay for programs.
import Foundation
import Grad

public enum CaptionedSheet {
    /// Rows of (image `[3, H, W]` in [0, 1], caption); every cell is drawn at `cellWidth`
    /// pixels wide, keeping its aspect ratio (small crops are enlarged without smoothing).
    public static func svg(title: String, rows: [[(image: Tensor, caption: String)]], cellWidth: Int = 256) throws -> String {
        let gap = 8, captionHeight = 18, titleHeight = 28
        let columns = rows.map(\.count).max() ?? 0
        var y = titleHeight
        var body = ""
        for row in rows {
            let height = row.map { cellWidth * $0.image.shape[1] / max($0.image.shape[2], 1) }.max() ?? cellWidth
            for (c, cell) in row.enumerated() {
                let x = gap + c * (cellWidth + gap)
                let h = cellWidth * cell.image.shape[1] / max(cell.image.shape[2], 1)
                body += "<image x=\"\(x)\" y=\"\(y)\" width=\"\(cellWidth)\" height=\"\(h)\" style=\"image-rendering:pixelated\" "
                    + "href=\"data:image/png;base64,\(try PNG.encoded(cell.image).base64EncodedString())\"/>\n"
                body += "<text x=\"\(x + cellWidth / 2)\" y=\"\(y + height + 14)\" text-anchor=\"middle\">\(escaped(cell.caption))</text>\n"
            }
            y += height + captionHeight + gap
        }
        let width = gap + columns * (cellWidth + gap)
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(y)\" viewBox=\"0 0 \(width) \(y)\" "
            + "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
            + "<text x=\"\(gap)\" y=\"19\" font-size=\"14\">\(escaped(title))</text>\n" + body + "</svg>\n"
    }

    static func escaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

extension PNG {
    /// The 8-bit PNG bytes of an image `[3, H, W]` in [0, 1].
    public static func encoded(_ image: Tensor) throws -> Data {
        let path = NSTemporaryDirectory() + "ecdp-\(UUID().uuidString).png"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try write(image, to: path)
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }
}
