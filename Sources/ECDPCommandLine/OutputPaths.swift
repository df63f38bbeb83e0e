// Guards for commands that write one output per input: an output that is an input (the
// same path, or a link to it) would destroy the data the command reads.
import Foundation

enum OutputPaths {
    /// The file a path names once `.`/`..` and symbolic links are resolved.
    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Throws when any job's output is any job's input.
    static func refuseOverwritingInputs(_ jobs: [(input: String, output: String)]) throws {
        let inputs = Set(jobs.map { canonical($0.input) })
        if let clash = jobs.first(where: { inputs.contains(canonical($0.output)) }) {
            throw InputError("\(clash.output) would overwrite the input \(canonical(clash.output)); choose another --output")
        }
    }
}
