// `ecdp upscale`: super-resolve images with a trained model.
import AtomicFile
import ArgumentParser
import ECDP
import Evaluation
import Foundation
import Grad
import Imaging
import Training

struct Upscale: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Super-resolve PNG images (a file or a folder) with a trained ECDP model.",
        discussion: """
        Solvers: rk45[:TOL[:MAX_NFE]] (probability-flow ODE, adaptive Dormand–Prince, atol = rtol = 1e-3 by default, as the paper; at most 60,000 evaluations unless MAX_NFE says otherwise),
        euler:N, heun:N, rk4:N (fixed steps), ancestral (300 steps), ddim:N, dpm2:N, dpm3:N (DPM-Solver multistep).
        --tile N (LR pixels) splits large inputs into overlapping tiles sampled from one global noise field
        and blended across the overlap. --x-T FILE gives the starting noise (a safetensors file with one
        tensor [1, 3, H, W] or [3, H, W], e.g. a find-bc artifact); --temperature does not scale it; at
        another size than the output it is fitted by --x-T-policy (docs/boundary-condition.md).
        """)

    @Option(help: "Checkpoint: RUN/checkpoint.h5, an exported .safetensors, or a converted official checkpoint.") var checkpoint: String
    @Option(help: "Config name or YAML, when the checkpoint does not carry one.") var config: String?
    @Option(help: "LR PNG file or folder.") var input: String
    @Option(help: "Output PNG file or folder.") var output: String
    @Option(help: "Sampler: rk45[:TOL[:MAX_NFE]], euler:N, heun:N, rk4:N, ancestral, ddim:N, dpm2:N, dpm3:N.") var solver = "rk45"
    @Option(help: "Random seed of the starting noise.") var seed: UInt64 = 0
    @Option(help: "Temperature τ of the starting noise x_T ~ N(0, τ²I).") var temperature: Float = 1
    @Option(help: "Tile size in LR pixels (default: the whole image at once).") var tile: Int?
    @Option(help: "Tile overlap in LR pixels.") var overlap = 8
    @Option(name: .customLong("x-T"), help: "Starting noise x_T (safetensors, one tensor; a find-bc artifact).") var xTFile: String?
    @Option(name: .customLong("x-T-policy"), help: "How x_T fits outputs of another size: periodic, tiled or random-fill.")
    var xTPolicy = StartingNoisePolicy.tiled.rawValue
    @Flag(help: "Write the model's bicubic mean μ (PyTorch-semantics bicubic) instead of sampling: the baseline.") var bicubic = false
    @Flag(help: "One JSON object per image.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        if let tile, tile < 4 { throw ValidationError("--tile must be at least 4 LR pixels") }
        if overlap < 0 { throw ValidationError("--overlap must be ≥ 0") }
        if let tile, tile <= 2 * overlap {
            throw ValidationError("--tile \(tile) must be more than twice --overlap \(overlap), or tiles would hold nothing but overlap")
        }
        guard temperature.isFinite, temperature >= 0 else {
            throw ValidationError("--temperature must be a finite number ≥ 0, got \(temperature)")
        }
        guard StartingNoisePolicy(rawValue: xTPolicy) != nil else {
            throw ValidationError("--x-T-policy \(xTPolicy): choose one of \(StartingNoisePolicy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// x_T from a safetensors file: exactly one tensor, [1, 3, H, W] or [3, H, W].
    func loadStartingNoise(_ path: String) throws -> Tensor {
        let x = try StartingNoiseFile.load(path, checkpointSHA256: try sha256(ofFile: checkpoint), solvers: [solver])
        guard (x.rank == 4 && x.shape[0] == 1 && x.shape[1] == 3) || (x.rank == 3 && x.shape[0] == 3) else {
            throw InputError("\(path): x_T has shape \(x.shape); expected [1, 3, H, W] or [3, H, W]")
        }
        return x.rank == 3 ? x.reshaped([1] + x.shape) : x
    }

    func run() throws {
        threadOptions.apply()
        let sampler = try Sampler.parse(solver)
        let fallback = try config.map { try TrainingConfig.resolve($0) }
        let (model, cfg) = try InferenceModel.load(checkpoint: checkpoint, config: fallback)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else { throw InputError("\(input): no such file or folder") }
        let jobs: [(String, String)]
        if isDir.boolValue {
            try Folders.create(output)
            // DIV2K-style LR names (0801x4.png) give SR outputs named like their HR (0801.png).
            jobs = try ImageFolder.list(input).map { path in
                let name = DIV2KNames.highResolutionStem(ofLowResolution: path, scale: cfg.data.scale)
                return (path, (output as NSString).appendingPathComponent(name + ".png"))
            }
        } else {
            jobs = [(input, output)]
        }
        try OutputPaths.refuseOverwritingInputs(jobs)
        let boundary = try xTFile.map { try loadStartingNoise($0) }
        var bar = ProgressBar(total: jobs.count, label: "upscale")
        let within = SamplingProgress()
        if !json && !bicubic { within.watch(model) }
        for (i, (src, dst)) in jobs.enumerated() {
            within.start(label: "sample \((src as NSString).lastPathComponent)")
            let started = Date()
            let lr = try PNG.read(src)
            let (h, w) = (lr.shape[1] * cfg.data.scale, lr.shape[2] * cfg.data.scale)
            var rng = RandomGenerator(seed: seed)
            let batch = lr.reshaped([1] + lr.shape)
            let tiling = tile.map { Tiling(tile: $0, overlap: min(overlap, $0 - 1)) }
            let (sr, nfe): (Tensor, Int)
            if bicubic {
                (sr, nfe) = (model.bicubicBaseline(batch, height: h, width: w), 0)
            } else if let boundary, boundary.shape != [1, 3, h, w] {
                // x̃_T of another size: fitted by the policy (docs/boundary-condition.md).
                guard tiling == nil else { throw InputError("--tile cannot be combined with an x_T of another size than the output; see --x-T-policy tiled") }
                (sr, nfe) = try model.superResolve(batch, boundaryCondition: boundary, policy: StartingNoisePolicy(rawValue: xTPolicy)!,
                                                   overlap: overlap, sampler: sampler, scale: cfg.data.scale, using: &rng)
            } else {
                let xT = boundary ?? Tensor.randomNormal([1, 3, h, w], std: temperature, using: &rng)
                (sr, nfe) = try model.superResolve(batch, startingNoise: xT, sampler: sampler, tiling: tiling, using: &rng)
            }
            try PNG.write(sr, to: dst)
            let seconds = Date().timeIntervalSince(started)
            if json {
                var line = JSONLine()
                line.add("input", src); line.add("output", dst); line.add("nfe", nfe); line.add("seconds", seconds)
                print(line.text)
            } else {
                bar.note("\(src) → \(dst): \(w)×\(h), \(nfe) network evaluations, \(String(format: "%.2f", seconds)) s")
            }
            bar.update(i + 1)
        }
    }
}

