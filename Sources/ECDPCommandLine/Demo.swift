// `ecdp demo`: what `make demo` runs. Trains the `small` model briefly on the shipped
// demo photographs (showing the loss fall), then super-resolves a held-out photograph
// ×4 with the shipped pretrained `small` model and writes the images, the metrics
// (with their protocols) and the loss plot.
import AtomicFile
import ArgumentParser
import ECDP
import Evaluation
import Foundation
import ProjectFiles
import Reporting
import Grad
import Imaging
import Training

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train `small` briefly on the demo data, then super-resolve a demo test image with the shipped model.")

    @Option(help: "Steps of the brief training run.") var steps = 30
    @Option(help: "Output folder.") var output = "runs/demo"
    @Option(help: "The model used for the super-resolution.") var checkpoint = "Checkpoints/pretrained/ecdp-small-demo.safetensors"
    @Option(name: .customLong("weights"), help: ArgumentHelp("Old name of --checkpoint.", visibility: .hidden)) var oldWeights: String?
    @Option(help: "HR test image (it is downscaled ×4 with MATLAB bicubic to make the input).")
    var image = "Training/data/demo/test/chelsea.png"
    @Option(help: "Sampler for the super-resolution (see `ecdp upscale --help`).") var solver = "dpm3:20"
    @Option(help: "Temperature of the starting noise.") var temperature: Float = 0.8
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        threadOptions.apply()
        let fm = FileManager.default
        try Folders.create(output)
        func out(_ name: String) -> String { (output as NSString).appendingPathComponent(name) }

        // 1. Brief training from scratch, so a new user sees the whole loop run.
        print("== 1/3 training `small` for \(steps) steps on Training/data/demo/train (a real run is `ecdp train --config small`)")
        let trainRun = out("train")
        if fm.fileExists(atPath: trainRun) { try fm.removeItem(atPath: trainRun) }
        let cfg = try TrainingConfig.resolve("small", overrides: [
            "schedule.validate_every=\(steps)", "schedule.sample_every=0", "schedule.log_every=1",
            "schedule.checkpoint_every=\(steps)", "optimizer.warmup_steps=10"])
        try runTraining(try Trainer.start(config: cfg, runDirectory: trainRun), steps: steps)
        print("loss curve: \(trainRun)/loss.svg")

        // 2. Super-resolution with the shipped model.
        if oldWeights != nil { Deprecation.notice("--weights", "--checkpoint", command: "demo") }
        let weights = ProjectFiles.resolve(oldWeights ?? checkpoint)
        let image = ProjectFiles.resolve(self.image)
        print("== 2/3 super-resolving \(image) ×4 with \(weights)")
        guard fm.fileExists(atPath: weights) else {
            throw InputError("\(weights) is missing; train one with `ecdp train --config small --run runs/small` and export it with `ecdp convert runs/small/checkpoint.h5 \(weights) --map ema-weights`")
        }
        let (model, modelConfig) = try InferenceModel.load(checkpoint: weights)
        let scale = modelConfig.data.scale
        let hrFull = try PNG.read(image)
        let hr = hrFull.slice(start: [0, 0, 0], size: [3, hrFull.shape[1] / scale * scale, hrFull.shape[2] / scale * scale])
        let lr = ColorSpace.quantized8(MatlabResize.resize(hr, scale: 1 / Double(scale)))
        let sampler = try Sampler.parse(solver)
        var rng = RandomGenerator(seed: 0)
        let xT = Tensor.randomNormal([1, 3, hr.shape[1], hr.shape[2]], std: temperature, using: &rng)
        let started = Date()
        let progress = SamplingProgress()
        progress.watch(model)
        progress.start(label: "sample")
        let (sr, nfe) = try model.superResolve(lr.reshaped([1] + lr.shape), startingNoise: xT, sampler: sampler, using: &rng)
        let seconds = Date().timeIntervalSince(started)
        let srImage = sr.reshaped(Array(sr.shape.dropFirst()))
        let bicubic = model.bicubicBaseline(lr.reshaped([1] + lr.shape), height: hr.shape[1], width: hr.shape[2])
        let bicubicImage = bicubic.reshaped(Array(bicubic.shape.dropFirst()))
        try PNG.write(lr, to: out("lr.png"))
        try PNG.write(bicubicImage, to: out("bicubic.png"))
        try PNG.write(srImage, to: out("sr.png"))
        try PNG.write(Tensor.concatenate([bicubicImage, srImage, hr], axis: 2), to: out("comparison.png"))
        try writeComparisonSheet(bicubic: bicubicImage, sr: srImage, hr: hr, to: out("comparison.svg"))
        print("\(nfe) network evaluations in \(String(format: "%.1f", seconds)) s; wrote lr.png, bicubic.png, sr.png, comparison.png and comparison.svg (bicubic | ECDP | HR, captioned)")

        // 3. Metrics under both protocols, against bicubic upscaling.
        print("== 3/3 metrics (protocol beside every number)")
        var report: [String] = []
        for proto in MetricProtocol.all {
            let ours = try proto.evaluate(output: srImage, reference: hr, lr: lr, scale: scale)
            let base = try proto.evaluate(output: bicubicImage, reference: hr, lr: lr, scale: scale)
            for (name, m) in [("ecdp", ours), ("bicubic", base)] {
                print("  \(name.padding(toLength: 8, withPad: " ", startingAt: 0)) PSNR \(String(format: "%.2f", m.psnr)) dB  SSIM \(String(format: "%.4f", m.ssim))  LR-PSNR \(String(format: "%.2f", m.lrPSNR ?? .nan)) dB  [\(proto)]")
                var line = JSONLine()
                line.add("method", name); line.add("protocol", proto.name); line.add("psnr", m.psnr); line.add("ssim", m.ssim)
                line.add("lr_psnr", m.lrPSNR); line.add("image", image); line.add("solver", solver); line.add("temperature", Double("\(temperature)") ?? Double(temperature))
                report.append(line.text)
            }
        }
        try (report.joined(separator: "\n") + "\n").write(toFile: out("metrics.jsonl"), atomically: true, encoding: .utf8)
        let page = out("report.html")
        try Report.build(output).html.write(toFile: page, atomically: true, encoding: .utf8)
        print("outputs in \(output)/: comparison.png, sr.png, metrics.jsonl, train/loss.svg")
        print("report: \(page) (open it in a browser)")
    }

    /// comparison.svg: the three images captioned, without the photograph's black bars, and
    /// their most detailed 64² enlarged 4× underneath.
    func writeComparisonSheet(bicubic: Tensor, sr: Tensor, hr: Tensor, to path: String) throws {
        let content = Report.contentBox(hr), box = Report.detailBox(hr, side: 64)
        func whole(_ t: Tensor) -> Tensor { t.slice(start: [0, content.y, content.x], size: [3, content.height, content.width]) }
        func detail(_ t: Tensor) -> Tensor { t.slice(start: [0, box.y, box.x], size: [3, box.side, box.side]) }
        let rows = [[(whole(bicubic), "bicubic (μ(y))"), (whole(sr), "ECDP, \(solver), τ = \(temperature)"), (whole(hr), "HR reference")],
                    [(detail(bicubic), "detail: the most detailed 64²"), (detail(sr), "detail"), (detail(hr), "detail")]]
        try CaptionedSheet.svg(title: "\(image), ×4", rows: rows, cellWidth: 300).write(toFile: path, atomically: true, encoding: .utf8)
    }
}
