// `ecdp upscale`: super-resolve images with a trained model.
import ArgumentParser
import Foundation
import Training

struct Upscale: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Super-resolve PNG images (a file or a folder) with a trained ECDP model.",
        discussion: """
        Solvers: rk45[:TOL] (probability-flow ODE, adaptive Dormand–Prince, atol = rtol = 1e-3 by default, as the paper),
        euler:N, heun:N, rk4:N (fixed steps), ancestral (300 steps), ddim:N, dpm2:N, dpm3:N (DPM-Solver multistep).
        Tiled inference for large images is not implemented yet (issue #7).
        """)

    @Option(help: "Checkpoint: RUN/checkpoint.h5, an exported .safetensors, or a converted official checkpoint.") var checkpoint: String
    @Option(help: "Config name or YAML, when the checkpoint does not carry one.") var config: String?
    @Option(help: "LR PNG file or folder.") var input: String
    @Option(help: "Output PNG file or folder.") var output: String
    @Option(help: "Sampler: rk45[:TOL], euler:N, heun:N, rk4:N, ancestral, ddim:N, dpm2:N, dpm3:N.") var solver = "rk45"
    @Option(help: "Random seed of the starting noise.") var seed: UInt64 = 0
    @Option(help: "Temperature τ of the starting noise x_T ~ N(0, τ²I).") var temperature: Float = 1
    @Flag(help: "One JSON object per image.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        threadOptions.apply()
        let sampler = try Sampler.parse(solver)
        let fallback = try config.map { try TrainingConfig.resolve($0) }
        let (model, cfg) = try InferenceModel.load(checkpoint: checkpoint, config: fallback)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else { throw ValidationError("\(input): no such file or folder") }
        let jobs: [(String, String)]
        if isDir.boolValue {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            jobs = try ImageFolder.list(input).map { ($0, (output as NSString).appendingPathComponent(($0 as NSString).lastPathComponent)) }
        } else {
            jobs = [(input, output)]
        }
        var bar = ProgressBar(total: jobs.count, label: "upscale")
        for (i, (src, dst)) in jobs.enumerated() {
            let started = Date()
            let lr = try PNG.read(src)
            let (h, w) = (lr.shape[1] * cfg.data.scale, lr.shape[2] * cfg.data.scale)
            var rng = RandomGenerator(seed: seed)
            let xT = Tensor.randomNormal([1, 3, h, w], std: temperature, using: &rng)
            let (sr, nfe) = try ProbabilityFlowSampler.sample(model: model, lr: lr.reshaped([1] + lr.shape), xT: xT, sampler: sampler, using: &rng)
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

