// `ecdp --version`: the version, the source tree's git revision and the build settings.
import Foundation
import GradKernels

enum Version {
    static let number = "0.9.0"

    static var text: String {
        "ecdp \(number) (\(revision)); \(BuildSettings.configuration) build, kernels for \(BuildSettings.kernelTarget)"
    }

    /// The git revision of the source tree this binary was built from, read from its `.git`
    /// when the tree is still there (the path is this file's, fixed at compile time).
    static var revision: String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let git = root.appendingPathComponent(".git")
        guard let head = try? String(contentsOf: git.appendingPathComponent("HEAD"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines) else { return "git revision unknown: no source tree at \(root.path)" }
        guard head.hasPrefix("ref: ") else { return "git \(head.prefix(12))" }
        let ref = String(head.dropFirst(5))
        if let hash = try? String(contentsOf: git.appendingPathComponent(ref), encoding: .utf8) {
            return "git \(hash.prefix(12)) on \(ref.replacingOccurrences(of: "refs/heads/", with: ""))"
        }
        let packed = (try? String(contentsOf: git.appendingPathComponent("packed-refs"), encoding: .utf8)) ?? ""
        if let line = packed.split(separator: "\n").first(where: { $0.hasSuffix(" " + ref) }) {
            return "git \(line.prefix(12)) on \(ref.replacingOccurrences(of: "refs/heads/", with: ""))"
        }
        return "git revision unknown (\(ref))"
    }
}
