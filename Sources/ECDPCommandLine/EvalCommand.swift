// `ecdp eval`: super-resolve an evaluation set with one or more solvers, temperatures and
// seeds, and measure every output under a named protocol (Evaluation's EvaluationRun does
// the work; this file parses and prints).
import ArgumentParser
import Checkpoints
import Distributed
import ECDP
import Evaluation
import Foundation
import GradKernels
import Grad
import Training

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a model on a folder of HR images: SR images, per-image metrics and a summary table.",
        discussion: """
        For every HR image (cropped to a multiple of --scale), the LR input is taken from --lr (same name or
        <stem>x<scale>.png) or made with the training degradation (MATLAB bicubic, 8-bit) and written to OUT/lr/.
        Every --solver (repeatable; `bicubic` is the model's μ(y) baseline) runs at every --temperature with every
        seed, or from the fixed --x-T; outputs go to OUT/sr/<solver>/, one row per image to OUT/per_image.csv, and
        the means (± spread over images and over seeds) to OUT/summary.json and OUT/summary.md. Seed S and
        temperature τ give the image `ecdp upscale --seed S --temperature τ` gives. Rerunning the same command
        resumes an interrupted evaluation. See docs/evaluation.md.
        """)

    @Option(help: "Checkpoint: RUN/checkpoint.h5, an exported .safetensors, or an official checkpoint.") var checkpoint: String
    @Option(help: "Config name or YAML, when the checkpoint does not carry one.") var config: String?
    @Option(help: "Folder of HR PNG images.") var hr: String
    @Option(help: "Folder of LR PNG images (default: made from the HR images).") var lr: String?
    @Option(help: "Scale factor (default: the model's).") var scale: Int?
    @Option(name: .customLong("protocol"), help: "Metric protocol: ecdp or basicsr.") var protocolName: String
    @Option(name: .customLong("solver"), help: "Sampler (repeatable): rk45[:TOL[:MAX_NFE]], euler:N, heun:N, rk4:N, ancestral, ddim:N, dpm2:N, dpm3:N, bicubic.")
    var solvers: [String]
    @Option(name: .customLong("temperature"), help: "Temperature τ of x_T ~ N(0, τ²I) (repeatable).") var temperatures: [Double] = [1]
    @Option(help: "Seeds, comma-separated.") var seeds = "0"
    @Option(name: .customLong("x-T"), help: "Fixed starting noise x_T (safetensors, one tensor; a find-bc artifact).") var xTFile: String?
    @Option(name: .customLong("x-T-policy"), help: "How x_T fits images of another size: periodic, tiled or random-fill.")
    var xTPolicy = StartingNoisePolicy.tiled.rawValue
    @Option(help: "Add LPIPS with this network: alex, vgg or squeeze.") var lpips: String?
    @Option(help: "The LPIPS backbone (torchvision .pth or safetensors).") var lpipsBackbone: String?
    @Option(help: "Evaluate only the first N images (sorted by name).") var limit: Int?
    @Option(help: "Output folder.") var out: String
    @OptionGroup var threadOptions: ThreadOptions

    func parsedSeeds() throws -> [UInt64] {
        let parts = seeds.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap { UInt64($0) }
        guard !parts.isEmpty, values.count == parts.count else { throw ValidationError("--seeds \(seeds): expected non-negative integers like 0,1,2") }
        return values
    }

    func validate() throws {
        guard MetricProtocol.named(protocolName) != nil else {
            throw ValidationError("unknown protocol '\(protocolName)'; choose one of: \(MetricProtocol.all.map(\.name).joined(separator: ", "))")
        }
        guard !solvers.isEmpty else { throw ValidationError("give at least one --solver") }
        do { try EvaluationSettings.checkSolvers(solvers) } catch { throw ValidationError("\(error)") }
        guard temperatures.allSatisfy({ $0 >= 0 && $0.isFinite }) else { throw ValidationError("--temperature must be ≥ 0") }
        if xTFile != nil, temperatures != [1] {
            throw ValidationError("--x-T gives the starting noise itself; it cannot be combined with --temperature")
        }
        _ = try parsedSeeds()
        guard StartingNoisePolicy(rawValue: xTPolicy) != nil else {
            throw ValidationError("--x-T-policy \(xTPolicy): choose one of \(StartingNoisePolicy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let scale, scale < 1 { throw ValidationError("--scale must be at least 1") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        try LPIPSOption.validate(network: lpips, backbone: lpipsBackbone)
    }

    func run() throws {
        threadOptions.apply()
        let fallback = try config.map { try TrainingConfig.resolve($0) }
        let (model, cfg) = try InferenceModel.load(checkpoint: checkpoint, config: fallback)
        let scale = self.scale ?? cfg.data.scale
        guard scale == cfg.data.scale else { throw InputError("--scale \(scale), but \(checkpoint) is a ×\(cfg.data.scale) model") }
        let perceptual = try LPIPSOption.load(network: lpips, backbone: lpipsBackbone)
        let checkpointSHA256 = try sha256(ofFile: checkpoint)
        let xT = try xTFile.map { try StartingNoiseFile.load($0, checkpointSHA256: checkpointSHA256, solvers: solvers) }
        let settings = EvaluationSettings(
            checkpointName: (checkpoint as NSString).lastPathComponent, checkpointSHA256: checkpointSHA256,
            parameters: model.parameterCount, protocolName: protocolName, scale: scale,
            lpipsNetwork: perceptual?.network.rawValue, solvers: solvers, temperatures: temperatures, seeds: try parsedSeeds(),
            startingNoise: xTFile.map { ($0 as NSString).lastPathComponent }, startingNoisePolicy: xTFile.map { _ in xTPolicy }, limit: limit)
        let run = try EvaluationRun(model: model, settings: settings, hrFolder: hr, lrFolder: lr, directory: out, lpips: perceptual,
                                    startingNoise: xT)
        // Under mpirun each process measures its share of the images; then rank 0 merges.
        let communicator = try launchCommunicator()
        var bar: ProgressBar?
        let show: (Int, Int, String) -> Void = { done, total, note in
            guard communicator.isRoot else { return }
            if bar == nil {
                bar = ProgressBar(total: total, label: communicator.size > 1 ? "eval (rank 0 of \(communicator.size))" : "eval", start: done)
                if done > 0 { bar!.note("resuming \(out): \(done) of \(total) already measured") }
            }
            if !note.isEmpty { bar!.note(note) }
            bar!.update(done)
        }
        if communicator.size > 1 {
            try stoppingAllOnFailure(communicator) {
                try run.run(machine: .current(threads: Parallel.maxThreads), shard: (communicator.rank, communicator.size), progress: show)
            }
            _ = try communicator.sum([0])  // every share is measured before rank 0 merges
            guard communicator.isRoot else { return }
            bar = nil
        }
        guard let summary = try run.run(machine: .current(threads: Parallel.maxThreads), progress: show) else { return }
        print(summary.markdown, terminator: "")
        print("wrote \(out)/summary.json, summary.md, per_image.csv and sr/")
    }
}
