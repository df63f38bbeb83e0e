// Renamed flags keep working under their old names for a while, with a notice on stderr
// naming the new one (docs/cli.md lists the renames).
import Foundation

enum Deprecation {
    static func notice(_ old: String, _ new: String, command: String) {
        FileHandle.standardError.write(Data("note: `ecdp \(command) \(old)` is now \(new); the old name will be removed\n".utf8))
    }
}
