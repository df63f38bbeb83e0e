// The wall time of a step over all its runs. A step interrupted and resumed (a long search,
// a training) used to record only its last run in `done.json`, so a table's "wall time of
// the steps behind it" left out every earlier run. `elapsed.json` in the step's folder
// keeps the seconds of the finished runs; it is written when a run stops and every minute
// while it runs (at the step's stop checks), so a killed run loses at most about a minute.
import Foundation

final class StepClock {
    private let path: String
    private let before: Double
    private let started = Date()
    private var lastSaved = Date()

    init(folder: String) {
        path = (folder as NSString).appendingPathComponent("elapsed.json")
        let saved = FileManager.default.contents(atPath: path)
            .flatMap { try? JSONDecoder().decode(Elapsed.self, from: $0) }
        before = max(0, saved?.seconds ?? 0)
    }

    /// Seconds over every run of the step so far.
    var total: Double { before + Date().timeIntervalSince(started) }

    /// Saves the total when a minute has passed since the last save.
    func tick() {
        if Date().timeIntervalSince(lastSaved) >= 60 { save() }
    }

    /// Saves the total now (a failed save only costs the time's accuracy, never the run).
    func save() {
        lastSaved = Date()
        guard let data = try? JSONEncoder().encode(Elapsed(seconds: total)) else { return }
        try? OutputFile.write(data, to: path)
    }

    private struct Elapsed: Codable { var seconds: Double }
}
