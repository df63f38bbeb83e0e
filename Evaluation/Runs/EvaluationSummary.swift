// The summary of an evaluation: one row per (solver, temperature or x_T), each metric's
// mean over images and seeds, its spread over images (the standard deviation of the
// per-image means over seeds) and over seeds (of the per-seed means over images), the
// network evaluations and time per image, and what was measured — protocol, images,
// model and machine — beside every number.
import Foundation

public struct EvaluationSummary: Sendable {
    public struct Row: Sendable {
        public var solver: String
        public var temperature: Double?
        public var startingNoise: String
        public var seeds: [UInt64]
        /// metric name → (mean, std over images, std over seeds); nil values where a metric is missing.
        public var metrics: [(name: String, mean: Double?, stdImages: Double?, stdSeeds: Double?)]
        public var evaluations: Double
        public var secondsPerImage: Double
    }

    public var rows: [Row]
    public var settings: EvaluationSettings
    public var protocolDescription: String
    public var images: Int
    public var machine: MachineDescription

    static let metricNames = ["psnr", "ssim", "lr_psnr", "lpips"]

    /// Groups `records` (all of them measured) into rows, in the order of `settings`.
    init(records: [EvaluationRecord], settings: EvaluationSettings, protocolDescription: String, images: Int,
         machine: MachineDescription) {
        self.settings = settings
        self.protocolDescription = protocolDescription
        self.images = images
        self.machine = machine
        var order: [String] = []
        var groups: [String: [EvaluationRecord]] = [:]
        for r in records {
            let key = "\(r.solver)|\(r.temperature.map { "\($0)" } ?? "")|\(r.startingNoise)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(r)
        }
        rows = order.map { key in
            let group = groups[key]!
            let first = group[0]
            let seeds = Array(Set(group.compactMap(\.seed))).sorted()
            let metrics = Self.metricNames.map { name -> (String, Double?, Double?, Double?) in
                let value: (EvaluationRecord) -> Double? = {
                    switch name {
                    case "psnr": return $0.psnr
                    case "ssim": return $0.ssim
                    case "lr_psnr": return $0.lrPSNR
                    default: return $0.lpips
                    }
                }
                guard group.allSatisfy({ value($0).map(\.isFinite) ?? false }) else { return (name, nil, nil, nil) }
                // Groups in order of first appearance (not a Dictionary's, which varies): the same
                // records give the same bits, so a resumed run's summary equals the first one's.
                let byImage = orderedGroups(group, by: \.image).map { mean($0.map { value($0)! }) }
                let bySeed = orderedGroups(group, by: { $0.seed ?? 0 }).map { mean($0.map { value($0)! }) }
                return (name, mean(group.map { value($0)! }), standardDeviation(byImage), standardDeviation(bySeed))
            }
            return Row(solver: first.solver, temperature: first.temperature, startingNoise: first.startingNoise, seeds: seeds,
                       metrics: metrics, evaluations: mean(group.map { Double($0.evaluations) }),
                       secondsPerImage: mean(group.map(\.seconds)))
        }
    }

    /// `summary.json`: `{"rows": [...]}`, every row self-describing.
    public var json: String {
        let rows: [[String: Any]] = self.rows.map { row in
            var o: [String: Any] = [
                "solver": row.solver, "temperature": row.temperature ?? NSNull(), "x_t": row.startingNoise,
                "seeds": row.seeds.map { NSNumber(value: $0) }, "nfe": row.evaluations, "seconds_per_image": row.secondsPerImage,
                "params": settings.parameters, "protocol": settings.protocolName, "protocol_description": protocolDescription,
                "images": images, "scale": settings.scale, "lpips_net": settings.lpipsNetwork ?? NSNull(),
                "checkpoint": ["name": settings.checkpointName, "sha256": settings.checkpointSHA256],
                "machine": ["cpu": machine.cpu, "threads": machine.threads],
            ]
            for m in row.metrics {
                o["\(m.name)_mean"] = m.mean ?? NSNull()
                o["\(m.name)_std_images"] = m.stdImages ?? NSNull()
                o["\(m.name)_std_seeds"] = m.stdSeeds ?? NSNull()
            }
            return o
        }
        let data = try! JSONSerialization.data(withJSONObject: ["rows": rows], options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// `summary.md`: the rows as a table, mean ± spread over images, the protocol in the caption.
    public var markdown: String {
        func cell(_ m: (name: String, mean: Double?, stdImages: Double?, stdSeeds: Double?), digits: Int) -> String {
            guard let mean = m.mean else { return "–" }
            let text = String(format: "%.\(digits)f", mean)
            return m.stdImages.map { text + String(format: " ± %.\(digits)f", $0) } ?? text
        }
        var lines = [
            "| solver | τ | x_T | seeds | PSNR (dB) | SSIM | LR-PSNR (dB) | LPIPS\(settings.lpipsNetwork.map { "-\($0)" } ?? "") | NFE | s/image |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for row in rows {
            let m = Dictionary(uniqueKeysWithValues: row.metrics.map { ($0.name, $0) })
            lines.append("| \(row.solver) | \(row.temperature.map { String(format: "%g", $0) } ?? "–") | \(row.startingNoise) | "
                + "\(row.seeds.isEmpty ? "–" : row.seeds.map(String.init).joined(separator: ",")) | \(cell(m["psnr"]!, digits: 2)) | "
                + "\(cell(m["ssim"]!, digits: 4)) | \(cell(m["lr_psnr"]!, digits: 2)) | \(cell(m["lpips"]!, digits: 4)) | "
                + "\(String(format: "%g", row.evaluations)) | \(String(format: "%.2f", row.secondsPerImage)) |")
        }
        let caption = "Protocol: \(protocolDescription); LPIPS: \(settings.lpipsNetwork.map { "v0.1 \($0), 8-bit RGB" } ?? "not computed"); "
            + "\(images) images ×\(settings.scale); \(settings.checkpointName) (SHA-256 \(settings.checkpointSHA256.prefix(12))…, "
            + "\(settings.parameters) parameters); \(machine.cpu), \(machine.threads) threads. "
            + "Values: mean ± standard deviation over images (of each image's mean over seeds)."
        return ([caption, ""] + lines).joined(separator: "\n") + "\n"
    }
}

/// The machine a timing was measured on.
public struct MachineDescription: Sendable, Equatable {
    public var cpu: String
    public var threads: Int

    public init(cpu: String, threads: Int) {
        self.cpu = cpu
        self.threads = threads
    }

    /// The CPU model from /proc/cpuinfo ("unknown CPU" elsewhere).
    public static func current(threads: Int) -> MachineDescription {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = info.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        return MachineDescription(cpu: model ?? "unknown CPU", threads: threads)
    }
}

func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

/// The records grouped by `key`, groups in order of their first record.
func orderedGroups<K: Hashable>(_ records: [EvaluationRecord], by key: (EvaluationRecord) -> K) -> [[EvaluationRecord]] {
    var order: [K] = [], groups: [K: [EvaluationRecord]] = [:]
    for r in records {
        let k = key(r)
        if groups[k] == nil { order.append(k) }
        groups[k, default: []].append(r)
    }
    return order.map { groups[$0]! }
}

/// Sample standard deviation (n − 1); nil for fewer than two values.
func standardDeviation(_ values: [Double]) -> Double? {
    guard values.count > 1 else { return nil }
    let m = mean(values)
    return (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
}
