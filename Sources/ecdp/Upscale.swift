// `ecdp upscale`: super-resolve images with a trained model.
import ArgumentParser
import Foundation
import Training

struct Upscale: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Super-resolve PNG images (a file or a folder) with a trained ECDP model.",
        discussion: "Solvers available now: euler:N, heun:N, rk4:N (probability-flow ODE, fixed steps). The adaptive rk45, DDIM, DPM-Solver, ancestral sampling and tiling come with issue #7.")

    @Option(help: "Checkpoint: RUN/checkpoint.h5, an exported .safetensors, or a converted official checkpoint.") var checkpoint: String
    @Option(help: "Config name or YAML, when the checkpoint does not carry one.") var config: String?
    @Option(help: "LR PNG file or folder.") var input: String
    @Option(help: "Output PNG file or folder.") var output: String
    @Option(help: "ODE solver and steps: euler:N, heun:N or rk4:N.") var solver = "rk4:20"
    @Option(help: "Random seed of the starting noise.") var seed: UInt64 = 0
    @Option(help: "Temperature τ of the starting noise x_T ~ N(0, τ²I).") var temperature: Float = 1
    @Flag(help: "One JSON object per image.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        threadOptions.apply()
        let (tableau, steps) = try parseSolver(solver)
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
            let (sr, nfe) = ProbabilityFlowSampler.sample(model: model, lr: lr.reshaped([1] + lr.shape), xT: xT, steps: steps, tableau: tableau)
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

/// "rk4:20" → (RK4, 20 steps).
func parseSolver(_ text: String) throws -> (ButcherTableau, Int) {
    let parts = text.split(separator: ":")
    guard parts.count == 2, let tableau = ButcherTableau.named(String(parts[0])), let steps = Int(parts[1]), steps >= 1 else {
        throw ValidationError("--solver \(text): expected euler:N, heun:N or rk4:N")
    }
    return (tableau, steps)
}
