// One self-contained HTML page: inline CSS, inline SVG and PNG (base64), a few lines of
// inline script (sortable tables, and a record of script errors that the browser test
// reads). No network, no external fonts or scripts. Wide tables scroll inside their own
// box, so the page itself never needs horizontal scrolling, at 1280 px or at 375 px.
import Foundation

public struct HTMLDocument {
    public var title: String
    private var body: [String] = []

    public init(title: String) { self.title = title }

    public static func escaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    public mutating func heading(_ text: String, level: Int = 2, id: String? = nil) {
        body.append("<h\(level)\(id.map { " id=\"\($0)\"" } ?? "")>\(Self.escaped(text))</h\(level)>")
    }

    public mutating func paragraph(_ text: String, className: String? = nil) {
        body.append("<p\(className.map { " class=\"\($0)\"" } ?? "")>\(Self.escaped(text))</p>")
    }

    public mutating func list(_ items: [String]) {
        body.append("<ul>" + items.map { "<li>\(Self.escaped($0))</li>" }.joined() + "</ul>")
    }

    public mutating func preformatted(_ text: String) {
        body.append("<div class=\"scroll\"><pre>\(Self.escaped(text))</pre></div>")
    }

    /// A table; `sortable` adds click-to-sort headers. Cells are text.
    public mutating func table(caption: String?, header: [String], rows: [[String]], sortable: Bool = false, id: String? = nil) {
        // The caption outside the scrolling box, so it wraps to the page's width.
        var html = caption.map { "<p class=\"caption\">\(Self.escaped($0))</p>" } ?? ""
        html += "<div class=\"scroll\"><table\(sortable ? " class=\"sortable\"" : "")\(id.map { " id=\"\($0)\"" } ?? "")>"
        html += "<thead><tr>" + header.map { "<th>\(Self.escaped($0))</th>" }.joined() + "</tr></thead><tbody>"
        for row in rows { html += "<tr>" + row.map { "<td>\(Self.escaped($0))</td>" }.joined() + "</tr>" }
        body.append(html + "</tbody></table></div>")
    }

    /// An SVG drawing, inline (scaled to the page's width).
    public mutating func svg(_ svg: String, caption: String) {
        let inline = svg.replacingOccurrences(of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", with: "")
        body.append("<figure class=\"chart\">\(inline)<figcaption>\(Self.escaped(caption))</figcaption></figure>")
    }

    /// Images side by side, each with its caption, as inline PNGs.
    public mutating func figures(_ images: [(png: Data, caption: String)], title: String? = nil) {
        var html = "<div class=\"figures\">"
        for (png, caption) in images {
            html += "<figure><img alt=\"\(Self.escaped(caption))\" src=\"data:image/png;base64,\(png.base64EncodedString())\">"
                + "<figcaption>\(Self.escaped(caption))</figcaption></figure>"
        }
        if let title { html = "<h3>\(Self.escaped(title))</h3>" + html }
        body.append(html + "</div>")
    }

    public var html: String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Self.escaped(title))</title>
        <script>
        window.reportErrors = [];
        window.addEventListener('error', function (e) { window.reportErrors.push(String(e.message)); });
        </script>
        <style>
        body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 0 auto; padding: 0 12px 40px; color: #222; line-height: 1.45; }
        h1 { font-size: 1.6em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
        .scroll { overflow-x: auto; max-width: 100%; }
        table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
        p.caption { color: #555; margin: 0.8em 0 0.2em; }
        th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; white-space: nowrap; }
        th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
        table.sortable th { cursor: pointer; }
        pre { background: #f7f7f7; padding: 8px; font-size: 0.85em; }
        figure { margin: 0.5em 0; } figcaption { color: #555; font-size: 0.9em; }
        .figures { display: flex; flex-wrap: wrap; gap: 10px; }
        .figures figure { flex: 1 1 200px; max-width: 360px; }
        .figures img { width: 100%; image-rendering: pixelated; border: 1px solid #ccc; }
        .chart svg { max-width: 100%; height: auto; }
        .note { color: #555; }
        </style></head><body>
        <h1>\(Self.escaped(title))</h1>
        \(body.joined(separator: "\n"))
        <script>
        document.querySelectorAll('table.sortable').forEach(function (table) {
          table.querySelectorAll('th').forEach(function (th, column) {
            th.addEventListener('click', function () {
              var rows = Array.from(table.tBodies[0].rows);
              var ascending = th.dataset.order !== 'ascending';
              rows.sort(function (a, b) {
                var x = a.cells[column].textContent, y = b.cells[column].textContent;
                var p = parseFloat(x), q = parseFloat(y);
                var c = (!isNaN(p) && !isNaN(q)) ? p - q : x.localeCompare(y);
                return ascending ? c : -c;
              });
              th.dataset.order = ascending ? 'ascending' : 'descending';
              rows.forEach(function (r) { table.tBodies[0].appendChild(r); });
            });
          });
        });
        document.documentElement.dataset.horizontalOverflow =
          String(document.documentElement.scrollWidth > document.documentElement.clientWidth);
        document.documentElement.dataset.scriptErrors = String(window.reportErrors.length);
        </script>
        </body></html>

        """
    }
}
