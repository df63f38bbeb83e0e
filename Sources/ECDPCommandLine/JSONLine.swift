// One JSON object per line, keys in insertion order; non-finite numbers become null.
import Foundation

struct JSONLine {
    private var fields: [(String, String)] = []

    mutating func add(_ key: String, _ value: String) { fields.append((key, JSONLine.quote(value))) }
    mutating func add(_ key: String, _ value: Int) { fields.append((key, String(value))) }
    mutating func add(_ key: String, _ value: Double?) {
        guard let value, value.isFinite else { fields.append((key, "null")); return }
        fields.append((key, String(value)))
    }

    var text: String { "{" + fields.map { "\(JSONLine.quote($0.0)): \($0.1)" }.joined(separator: ", ") + "}" }

    static func quote(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if ch.value < 0x20 { out += String(format: "\\u%04x", ch.value) } else { out.unicodeScalars.append(ch) }
            }
        }
        return out + "\""
    }
}
