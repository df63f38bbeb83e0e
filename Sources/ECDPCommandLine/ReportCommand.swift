// `ecdp report`: one self-contained HTML page for a run, an evaluation, a table run or the
// demo folder (Reporting does the work).
import ArgumentParser
import Foundation
import Reporting

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page for a training run, an evaluation, a table run or the demo folder.")

    @Argument(help: "The folder: a run (metrics.jsonl + config.yaml), an eval (summary.json), a table run (tables/) or runs/demo.")
    var folder: String
    @Option(help: "The HTML file to write (default: FOLDER/report.html).") var out: String?
    @Option(help: "An evaluation's HR folder, for its side-by-side details.") var hr: String?

    func run() throws {
        let document: HTMLDocument
        do { document = try Report.build(folder, hr: hr) } catch let e as ReportError { throw InputError(e.description) }
        let target = out ?? (folder as NSString).appendingPathComponent("report.html")
        try document.html.write(toFile: target, atomically: true, encoding: .utf8)
        print("wrote \(target)")
    }
}
