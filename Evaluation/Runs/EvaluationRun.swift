// `ecdp eval`'s engine: for every HR image (mod-cropped to the scale), its LR input (given,
// or made with the training degradation: MATLAB bicubic ×1/scale, 8-bit), then for every
// solver × temperature (or fixed x_T) × seed the super-resolved image through
// `ECDPModel.superResolve`, written as PNG and measured from that file exactly as
// `ecdp metrics` measures it. Each result is appended to per_image.csv as soon as it exists;
// a rerun skips what is there, so an interrupted evaluation resumes and gives the same summary.
import AtomicFile
import ECDP
import Foundation
import Grad
import Imaging

public final class EvaluationRun {
    public let settings: EvaluationSettings
    let model: ECDPModel
    let metricProtocol: MetricProtocol
    let lpips: LPIPS?
    let startingNoise: Tensor?
    let hrFolder: String
    let lrFolder: String?
    public let directory: String

    /// - Parameters: `startingNoise` `[1, 3, H, W]` (or `[3, H, W]`), used for every image and
    ///   seed instead of random noise; its file name is `settings.startingNoise`.
    public init(model: ECDPModel, settings: EvaluationSettings, hrFolder: String, lrFolder: String?, directory: String,
                lpips: LPIPS?, startingNoise: Tensor?) throws {
        guard let proto = MetricProtocol.named(settings.protocolName) else {
            throw EvaluationInputError("unknown protocol '\(settings.protocolName)'")
        }
        try EvaluationSettings.checkSolvers(settings.solvers)
        self.model = model
        self.settings = settings
        metricProtocol = proto
        self.lpips = lpips
        self.startingNoise = startingNoise.map { $0.rank == 3 ? $0.reshaped([1] + $0.shape) : $0 }
        self.hrFolder = hrFolder
        self.lrFolder = lrFolder
        self.directory = directory
    }

    func path(_ parts: String...) -> String { parts.reduce(directory) { ($0 as NSString).appendingPathComponent($1) } }

    /// One image of the set: its reference (mod-cropped) and LR input, as files and tensors.
    struct Item {
        var name: String
        var referencePath: String
        var lrPath: String
        var lr: Tensor
        var height: Int
        var width: Int
    }

    /// The runs of every image, in a fixed order: solvers, then temperatures (or the fixed
    /// x_T), then seeds; the bicubic baseline once.
    var jobs: [(solver: String, temperature: Double?, startingNoise: String, seed: UInt64?)] {
        var jobs: [(String, Double?, String, UInt64?)] = []
        for solver in settings.solvers {
            if solver == EvaluationSettings.bicubic { jobs.append((solver, nil, "-", nil)); continue }
            if let file = settings.startingNoise {
                for seed in settings.seeds { jobs.append((solver, nil, file, seed)) }
            } else {
                for t in settings.temperatures { for seed in settings.seeds { jobs.append((solver, t, "random", seed)) } }
            }
        }
        return jobs
    }

    /// Runs what per_image.csv does not hold yet, then writes summary.json and summary.md.
    /// `progress(done, total, note)` is called once before the first measurement (note
    /// empty; done > 0 when resuming) and after every one. With `shard` (i, N) it measures
    /// only the images i, i + N, … into `per_image-<i>-of-<N>.csv` and returns nil; a later
    /// call without a shard merges the shards into per_image.csv and writes the summary.
    @discardableResult
    public func run(machine: MachineDescription, shard: (index: Int, count: Int)? = nil,
                    progress: (Int, Int, String) throws -> Void = { _, _, _ in }) throws -> EvaluationSummary? {
        let fm = FileManager.default
        try Folders.create(directory)
        try checkSettings()
        let names = try ImageFolder.list(hrFolder).map { ($0 as NSString).lastPathComponent }
        let all = settings.limit.map { Array(names.prefix($0)) } ?? names
        let selected = shard.map { s in all.enumerated().filter { $0.offset % s.count == s.index }.map(\.element) } ?? all
        var done = try loadRecords()
        let total = selected.count * jobs.count
        var finished = selected.reduce(0) { n, name in n + jobs.filter { done[key(name, $0)] != nil }.count }
        let csv = try openCSV(shard.map { "per_image-\($0.index)-of-\($0.count).csv" } ?? "per_image.csv")
        defer { try? csv.close() }
        try progress(finished, total, "")
        var records: [EvaluationRecord] = []
        for name in selected {
            let pending = jobs.filter { done[key(name, $0)] == nil }
            // An image whose rows are all measured is not read again.
            let item = pending.isEmpty ? nil : try prepare(name)
            for job in pending {
                let record = try measure(item!, job)
                try csv.write(contentsOf: Data((record.csvLine + "\n").utf8))
                try csv.synchronize()
                done[record.key] = record
                finished += 1
                try progress(finished, total, "\(name) \(job.solver)\(job.temperature.map { " τ=\($0)" } ?? "") seed \(job.seed.map(String.init) ?? "-"): "
                    + "PSNR \(String(format: "%.2f", record.psnr)) dB, \(record.evaluations) NFE, \(String(format: "%.1f", record.seconds)) s")
            }
            records += jobs.map { done[key(name, $0)]! }
        }
        guard shard == nil else { return nil }
        try mergeShardFiles(records)
        let summary = EvaluationSummary(records: records, settings: settings, protocolDescription: metricProtocol.description,
                                        images: selected.count, machine: machine)
        try write(summary.json, to: path("summary.json"))
        try write(summary.markdown, to: path("summary.md"))
        return summary
    }

    func key(_ name: String, _ job: (solver: String, temperature: Double?, startingNoise: String, seed: UInt64?)) -> String {
        EvaluationRecord(image: name, solver: job.solver, temperature: job.temperature, startingNoise: job.startingNoise, seed: job.seed,
                         psnr: 0, ssim: 0, lrPSNR: nil, lpips: nil, evaluations: 0, seconds: 0, output: "").key
    }

    /// settings.json: written on the first run; a later run must measure the same thing.
    func checkSettings() throws {
        let file = path("settings.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if let data = FileManager.default.contents(atPath: file) {
            guard let earlier = try? JSONDecoder().decode(EvaluationSettings.self, from: data) else {
                throw EvaluationInputError("\(file): not an evaluation's settings; choose another --out")
            }
            guard settings.isCompatible(with: earlier) else {
                throw EvaluationInputError("\(directory) holds an evaluation of \(earlier.checkpointName) (\(earlier.checkpointSHA256.prefix(12))…) "
                    + "under protocol \(earlier.protocolName), ×\(earlier.scale), LPIPS \(earlier.lpipsNetwork ?? "off"), x_T \(earlier.startingNoise ?? "random"); "
                    + "this one differs: choose another --out")
            }
        }
        try write(String(decoding: try encoder.encode(settings), as: UTF8.self) + "\n", to: file)
    }

    /// per_image.csv and every shard's file.
    var recordFiles: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0 == "per_image.csv" || ($0.hasPrefix("per_image-") && $0.hasSuffix(".csv")) }.sorted()
    }

    func loadRecords() throws -> [String: EvaluationRecord] {
        var records: [String: EvaluationRecord] = [:]
        for file in recordFiles {
            guard let text = try? String(contentsOfFile: path(file), encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                // A line cut short by an interruption does not parse: that image is measured again.
                if let r = EvaluationRecord(csvLine: String(line)) { records[r.key] = r }
            }
        }
        return records
    }

    /// After a sharded run: per_image.csv gets every row, in the run's order, and the shard
    /// files go (nothing to do when there were none).
    func mergeShardFiles(_ records: [EvaluationRecord]) throws {
        let shards = recordFiles.filter { $0 != "per_image.csv" }
        guard !shards.isEmpty else { return }
        try write(([EvaluationRecord.header] + records.map(\.csvLine)).joined(separator: "\n") + "\n", to: path("per_image.csv"))
        for file in shards { try FileManager.default.removeItem(atPath: path(file)) }
    }

    func openCSV(_ name: String) throws -> FileHandle {
        let file = path(name)
        if let text = try? String(contentsOfFile: file, encoding: .utf8), !text.isEmpty {
            // Drop a partial last line, so new rows start on a line of their own.
            let complete = text.hasSuffix("\n") ? text : String(text[..<(text.lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex)])
            if complete != text { try write(complete, to: file) }
        } else {
            try write(EvaluationRecord.header + "\n", to: file)
        }
        guard let handle = FileHandle(forWritingAtPath: file) else { throw EvaluationInputError("\(file): cannot open for writing") }
        try handle.seekToEnd()
        return handle
    }

    /// The reference (mod-cropped to a multiple of the scale, written to hr/ when cropping
    /// changed it) and the LR input (given, or made and written to lr/).
    func prepare(_ name: String) throws -> Item {
        let scale = settings.scale
        let hrPath = (hrFolder as NSString).appendingPathComponent(name)
        let stem = DIV2KNames.stem(name)
        let hrFull = try PNG.read(hrPath)
        let (h, w) = (hrFull.shape[1] / scale * scale, hrFull.shape[2] / scale * scale)
        guard h > 0, w > 0 else { throw EvaluationInputError("\(hrPath): \(hrFull.shape[2])×\(hrFull.shape[1]) is smaller than the scale \(scale)") }
        var reference = hrPath
        let hr = hrFull.slice(start: [0, 0, 0], size: [3, h, w])
        if h != hrFull.shape[1] || w != hrFull.shape[2] {
            try Folders.create(path("hr"))
            reference = path("hr", name)
            if !FileManager.default.fileExists(atPath: reference) { try PNG.write(hr, to: reference) }
        }
        let lrPath: String
        let lr: Tensor
        if let lrFolder {
            let candidates = [name, DIV2KNames.lowResolutionName(stem: stem, scale: scale)].map { (lrFolder as NSString).appendingPathComponent($0) }
            guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                throw EvaluationInputError("no LR image for \(name) in \(lrFolder) (tried \(candidates.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")))")
            }
            lrPath = found
            lr = try PNG.read(found)
            guard lr.shape[1] * scale == h, lr.shape[2] * scale == w else {
                throw EvaluationInputError("\(found): \(lr.shape[2])×\(lr.shape[1]) × \(scale) is not the reference's \(w)×\(h)")
            }
        } else {
            try Folders.create(path("lr"))
            lrPath = path("lr", DIV2KNames.lowResolutionName(stem: stem, scale: scale))
            lr = ColorSpace.quantized8(MatlabResize.resize(hr, scale: 1 / Double(scale)))
            if !FileManager.default.fileExists(atPath: lrPath) { try PNG.write(lr, to: lrPath) }
        }
        return Item(name: name, referencePath: reference, lrPath: lrPath, lr: lr, height: h, width: w)
    }

    /// One super-resolution, written and measured.
    func measure(_ item: Item, _ job: (solver: String, temperature: Double?, startingNoise: String, seed: UInt64?)) throws -> EvaluationRecord {
        let stem = DIV2KNames.stem(item.name)
        let batch = item.lr.reshaped([1] + item.lr.shape)
        let started = Date()
        let image: Tensor, nfe: Int
        let folder: String, file: String
        if job.solver == EvaluationSettings.bicubic {
            (image, nfe) = (model.bicubicBaseline(batch, height: item.height, width: item.width), 0)
            (folder, file) = (EvaluationSettings.bicubic, "\(stem).png")
        } else {
            let sampler = try Sampler.parse(job.solver)
            var rng = RandomGenerator(seed: job.seed ?? 0)
            if let startingNoise {
                // x̃_T of another size is fitted to the image by the policy (default tiled, the best measured).
                let policy = settings.startingNoisePolicy.flatMap(StartingNoisePolicy.init(rawValue:)) ?? .tiled
                let tile = startingNoise.shape[2] / settings.scale
                (image, nfe) = try model.superResolve(batch, boundaryCondition: startingNoise, policy: policy, overlap: tile / 4,
                                                      sampler: sampler, scale: settings.scale, using: &rng)
            } else {
                // As `ecdp upscale --seed S --temperature τ`: the same seed gives the same image.
                let xT = Tensor.randomNormal([1, 3, item.height, item.width], std: Float(job.temperature ?? 1), using: &rng)
                (image, nfe) = try model.superResolve(batch, startingNoise: xT, sampler: sampler, using: &rng)
            }
            folder = job.solver.replacingOccurrences(of: ":", with: "-")
            let noise = job.temperature.map { "t\($0)" } ?? "xT"
            file = "\(stem)_\(noise)_s\(job.seed ?? 0).png"
        }
        let seconds = Date().timeIntervalSince(started)
        try Folders.create(path("sr", folder))
        let output = path("sr", folder, file)
        try PNG.write(image.reshaped(Array(image.shape.dropFirst())), to: output)
        // Measured from the written file, as `ecdp metrics` would.
        let metrics = try FolderEvaluation.evaluate(EvaluationPair(name: item.name, output: output, reference: item.referencePath, lr: item.lrPath),
                                                    under: metricProtocol, scale: settings.scale, lpips: lpips)
        return EvaluationRecord(image: item.name, solver: job.solver, temperature: job.temperature, startingNoise: job.startingNoise,
                                seed: job.seed, psnr: metrics.psnr, ssim: metrics.ssim, lrPSNR: metrics.lrPSNR, lpips: metrics.lpips,
                                evaluations: nfe, seconds: seconds, output: "sr/\(folder)/\(file)")
    }

    func write(_ text: String, to file: String) throws {
        try AtomicFile.write(to: file, makeError: { EvaluationInputError("\(file): \($0)") }) { temporary in
            try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        }
    }
}
