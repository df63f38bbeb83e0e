// `ecdp bench`: medians of repeated timings, as JSON whose keys match the team's PyTorch
// reference timings of the same network (docs/performance.md) line by line.
import ArgumentParser
import ECDP
import Foundation
import Grad
import GradKernels
import GradNN
import Training

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the engine's speed (median of repeated runs).",
        subcommands: [Kernels.self, TrainStep.self, Convolution2D.self, AdjointMemory.self, Tuning.self]
    )

    struct AdjointMemory: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "adjoint",
            abstract: "One fine-tuning gradient by the adjoint method and by direct back-propagation, at several tolerances: NFE, peak memory, time.")

        @Option(help: "Config name or YAML path (model and hr_crop; finetune.vgg_width_divisor if present).") var config = "tiny"
        @Option(parsing: .upToNextOption, help: "Tolerances (rtol = atol).") var tolerances: [Double] = [1e-2, 1e-3]
        @OptionGroup var threadOptions: ThreadOptions
        @Flag(help: "One JSON object per run.") var json = false

        func run() throws {
            threadOptions.apply()
            let cfg = try TrainingConfig.resolve(config)
            let model = cfg.makeModel(seed: 0)
            var rng = RandomGenerator(seed: 0)
            for (_, p) in model.parameters() { p.value = p.value + Tensor.randomNormal(p.shape, std: 0.01, using: &rng) }
            let side = cfg.data.hrCrop, s = cfg.data.scale
            let hr = Tensor.randomUniform([1, 3, side, side], using: &rng)
            let lr = Tensor.randomUniform([1, 3, side / s, side / s], using: &rng)
            let xT = Tensor.randomNormal([1, 3, side, side], using: &rng)
            let architecture = PerceptualFeatures.Architecture(rawValue: (cfg.finetune?.features ?? .vgg19).rawValue)!
            let vgg = PerceptualFeatures(architecture, widthDivisor: cfg.finetune?.vggWidthDivisor ?? 1)
            let feats = withoutDerivatives { model.rrdb(lr) }
            let mu = withoutDerivatives { model.mean(lr: lr, height: side, width: side) }
            let imageQuality = ImageQualityLoss(features: vgg, weight: 0.5)
            let target = imageQuality.target(hr)
            let params = model.unet.parameters().map(\.parameter)
            let f: (Tensor, Double, Tensor) -> Tensor = { y, t, c in model.probabilityFlow(x: y, time: t, lrFeatures: c) }
            let loss: (Tensor) -> Tensor = { y in imageQuality(model.diffusion.image(residual: y, mean: mu), target: target) }
            for method in ["adjoint", "direct"] {
                for tol in tolerances {
                    Allocator.releaseFreeMemory()
                    let before = Allocator.residentMemory().current
                    Allocator.resetPeakMemory()
                    let solver = DormandPrince(rtol: tol, atol: tol)
                    let started = DispatchTime.now().uptimeNanoseconds
                    var nfe = 0
                    if method == "adjoint" {
                        let r = try Adjoint.gradients(of: f, parameters: params, extra: feats, y0: xT, t0: 300, t1: 0.1, solver: solver) { y in
                            vjp(at: [y], parameters: [], cotangent: nil) { loss($0[0]) }.inputGradients[0]
                        }
                        nfe = r.forwardEvaluations + r.backwardEvaluations
                    } else {
                        var count = 0
                        _ = vjp(at: [xT, feats], parameters: params, cotangent: nil) { ins in
                            let r = try! solver.integrate({ y, t in f(y, t, ins[1]) }, from: ins[0], t0: 300, t1: 0.1, jumpTimes: [0.1])
                            count = r.evaluations
                            return loss(r.y)
                        }
                        nfe = count
                    }
                    let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
                    let peak = Allocator.residentMemory().peak
                    let results: [(String, Any)] = [("method", method), ("rtol", tol), ("nfe", nfe),
                                                    ("peak_rss_mb", rounded(peak, 1)), ("peak_over_start_mb", rounded(peak - before, 1)),
                                                    ("ms", rounded(ms, 1)), ("config", cfg.name), ("size", side),
                                                    ("features", "random features (\(architecture.rawValue) layout)")]
                    printResults(results, json: json)
                }
            }
        }
    }

    struct TrainStep: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "One training step (batch from the config) and one network evaluation at 64² and 256² (batch 1).")

        @Option(help: "Config name or YAML path.") var config = "small"
        @OptionGroup var threadOptions: ThreadOptions
        @Flag(help: "Print one JSON object.") var json = false
        @Option(help: "Measure only one part (train_step, nfe_64 or nfe_256), e.g. under a profiler.")
        var only: String?
        @Option(help: "Timed training steps per setting (network evaluations: the same at 64², half at 256²).")
        var repetitions = 8
        @OptionGroup var tuning: TuningOptions

        func validate() throws {
            if let only, !["train_step", "nfe_64", "nfe_256"].contains(only) {
                throw ValidationError("--only must be train_step, nfe_64 or nfe_256, not '\(only)'")
            }
            guard repetitions >= 2 else { throw ValidationError("--repetitions must be at least 2") }
        }

        func run() throws {
            threadOptions.apply()
            let arms = try tuning.arms()
            let cfg = try TrainingConfig.resolve(config)
            let model = cfg.makeModel(seed: 0)
            var rng = RandomGenerator(seed: 0)
            let n = cfg.data.batch, size = cfg.data.hrCrop, s = cfg.data.scale
            let hr = Tensor.randomUniform([n, 3, size, size], using: &rng)
            let lr = Tensor.randomUniform([n, 3, size / s, size / s], using: &rng)
            let params = model.parameters()
            let adam = Adam(groups: [ParameterGroup(name: "all", parameters: params, learningRate: 1e-4)])
            var results: [(String, Any)] = []
            if only == nil || only == "train_step" {
                let steps = interleavedMilliseconds(warmup: 2, repetitions: repetitions, settings: arms) {
                    adam.zeroGradients()
                    accumulateGradients(of: params.map(\.parameter)) { model.loss(hr: hr, lr: lr, using: &rng) }
                    clipGradientValues(params.map(\.parameter), limit: 10)
                    adam.step()
                }
                // One more step, counted: the nominal operations of forward and backward.
                NominalFLOPs.reset()
                adam.zeroGradients()
                accumulateGradients(of: params.map(\.parameter)) { model.loss(hr: hr, lr: lr, using: &rng) }
                let flops = Double(NominalFLOPs.total)
                results += armFields("train_step_ms", steps)
                results.append(("train_step_gflop", rounded(flops / 1e9, 2)))
                results.append(("gflops", rounded(flops / 1e9 / (median(steps[0]) / 1e3), 1)))
            }
            results += [("params", model.parameterCount), ("config", cfg.name)]
            for side in [64, 256] where only == nil || only == "nfe_\(side)" {
                let x = Tensor.randomNormal([1, 3, side, side], using: &rng)
                let y = Tensor.randomUniform([1, 3, side / s, side / s], using: &rng)
                let feats = withoutDerivatives { model.rrdb(y) }
                let times = interleavedMilliseconds(warmup: 2, repetitions: side == 64 ? repetitions : max(2, repetitions / 2),
                                                    settings: arms) {
                    _ = withoutDerivatives { model.unet(x, times: [150], lrFeatures: feats) }
                }
                results += armFields("nfe_\(side)_ms", times)
            }
            results.append(("peak_rss_mb", rounded(Allocator.residentMemory().peak, 1)))
            results.append(("threads", Parallel.maxThreads))
            printResults(results + tuning.describe(arms), json: json)
        }
    }

    struct Convolution2D: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "conv",
            abstract: "One 2-D convolution of a given shape: forward, and forward + backward (dX, dW, db).")

        @Option(help: "Input shape N,C,H,W.") var input = "1,64,128,128"
        @Option(help: "Output channels.") var outChannels = 64
        @Option(help: "Square kernel size.") var kernel = 3
        @Option var stride = 1
        @Option(help: "Padding (default: kernel / 2).") var padding: Int?
        @Option(help: "Timed repetitions (median).") var repetitions = 20
        @OptionGroup var threadOptions: ThreadOptions
        @OptionGroup var tuning: TuningOptions
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            let dims = input.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard dims.count == 4, dims.allSatisfy({ $0 > 0 }) else {
                throw ValidationError("--input must be four positive integers N,C,H,W, got '\(input)'")
            }
            guard outChannels > 0, kernel > 0, stride > 0 else {
                throw ValidationError("--out-channels, --kernel and --stride must be positive")
            }
            let pad = padding ?? kernel / 2
            guard dims[2] + 2 * pad >= kernel, dims[3] + 2 * pad >= kernel else {
                throw ValidationError("a \(kernel)×\(kernel) kernel does not fit a \(dims[2])×\(dims[3]) input with padding \(pad)")
            }
            threadOptions.apply()
            let arms = try tuning.arms()
            var rng = RandomGenerator(seed: 0)
            let x = Tensor.randomNormal(dims, using: &rng)
            let w = Tensor.randomNormal([outChannels, dims[1], kernel, kernel], using: &rng)
            let b = Tensor.zeros([outChannels])
            let y = withoutDerivatives { Tensor.conv2d(x, weight: w, bias: b, stride: stride, padding: pad) }
            let forward = interleavedMilliseconds(repetitions: repetitions, settings: arms) {
                _ = withoutDerivatives { Tensor.conv2d(x, weight: w, bias: b, stride: stride, padding: pad) }
            }
            let ones = Tensor.ones(y.shape)
            let forwardBackward = interleavedMilliseconds(repetitions: repetitions, settings: arms) {
                _ = vjp(at: [x, w, b], cotangent: ones) { Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], stride: stride, padding: pad) }
            }
            let geometry = ConvGeometry(batch: dims[0], inChannels: dims[1], height: dims[2], width: dims[3],
                                        outChannels: outChannels, kernelHeight: kernel, kernelWidth: kernel,
                                        stride: stride, padding: pad)
            let paths = arms.map { setting in KernelTuning.with(setting) { Convolution.forwardPath(geometry) } }
            var results: [(String, Any)] = [
                ("input", input), ("out_channels", outChannels), ("kernel", kernel), ("stride", stride), ("padding", pad),
                ("path", paths[0]),
            ]
            if paths.count > 1 { results.append(("variant_path", paths[1])) }
            results += armFields("fwd_ms", forward) + armFields("fwdbwd_ms", forwardBackward)
            results.append(("threads", Parallel.maxThreads))
            printResults(results + tuning.describe(arms), json: json)
        }
    }

    struct Kernels: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "sgemm, conv2d 3×3 and GroupNorm+SiLU timings.")

        @OptionGroup var threadOptions: ThreadOptions
        @Flag(help: "Print one JSON object.") var json = false
        @Option(help: "Timed repetitions per kernel (after warm-up).") var repetitions = 10

        func run() throws {
            threadOptions.apply()
            let results = KernelBenchmark(repetitions: repetitions).run()
            printResults(results, json: json)
        }
    }
}

/// Median wall time in milliseconds of `body` over `repetitions` runs after `warmup`.
func medianMilliseconds(warmup: Int = 3, repetitions: Int, _ body: () -> Void) -> Double {
    withoutActuallyEscaping(body) { median(interleavedMilliseconds(warmup: warmup, repetitions: repetitions, arms: [$0])[0]) }
}

func rounded(_ x: Double, _ digits: Int = 3) -> Double {
    let p = Foundation.pow(10, Double(digits))
    return (x * p).rounded() / p
}

func printResults(_ results: [(String, Any)], json: Bool) {
    if json {
        var line = JSONLine()
        for (key, value) in results {
            switch value {
            case let s as String: line.add(key, s)
            case let d as Double: line.add(key, d)
            case let i as Int: line.add(key, i)
            default: line.add(key, "\(value)")
            }
        }
        print(line.text)
    } else {
        let width = max(28, (results.map(\.0.count).max() ?? 0) + 1)
        for (k, v) in results { print("\(k.padding(toLength: width, withPad: " ", startingAt: 0)) \(v)") }
    }
}

struct KernelBenchmark {
    let repetitions: Int

    func run() -> [(String, Any)] {
        var rng = RandomGenerator(seed: 0)
        let n = 1024
        let a = Tensor.randomNormal([n, n], using: &rng), b = Tensor.randomNormal([n, n], using: &rng)
        let flops = 2 * Double(n * n * n)
        let matmulMs = medianMilliseconds(repetitions: repetitions) { _ = Tensor.matmul(a, b) }

        // The physical limit: the raw sgemm on preallocated buffers, no Tensor around it.
        let c = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
        defer { c.deallocate() }
        let rawMs = a.withUnsafePointer { pa in b.withUnsafePointer { pb in
            medianMilliseconds(repetitions: repetitions) {
                BLAS.parallelSgemm(m: n, n: n, k: n, a: pa, lda: n, b: pb, ldb: n, c: c, ldc: n)
            }
        } }

        let x = Tensor.randomNormal([1, 64, 128, 128], using: &rng)
        let w = Tensor.randomNormal([64, 64, 3, 3], using: &rng), bias = Tensor.zeros([64])
        let convFwd = medianMilliseconds(repetitions: repetitions) {
            _ = Tensor.conv2d(x, weight: w, bias: bias, padding: 1)
        }
        // The convolution kernel alone, on preallocated buffers.
        let y = UnsafeMutablePointer<Float>.allocate(capacity: 64 * 128 * 128)
        defer { y.deallocate() }
        let geometry = ConvGeometry(batch: 1, inChannels: 64, height: 128, width: 128, outChannels: 64,
                                    kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)
        let convRaw = x.withUnsafePointer { px in w.withUnsafePointer { pw in
            medianMilliseconds(repetitions: repetitions) {
                Convolution.forward(x: px, weight: pw, bias: nil, y: y, geometry)
            }
        } }
        let ones = Tensor.ones([1, 64, 128, 128])
        let convFwdBwd = medianMilliseconds(repetitions: repetitions) {
            _ = vjp(at: [x, w, bias], cotangent: ones) { Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], padding: 1) }
        }

        let gx = Tensor.randomNormal([4, 128, 32, 32], using: &rng)
        let gamma = Tensor.ones([128]), beta = Tensor.zeros([128]), gOnes = Tensor.ones([4, 128, 32, 32])
        let gn = medianMilliseconds(repetitions: repetitions) {
            _ = vjp(at: [gx, gamma, beta], cotangent: gOnes) {
                Tensor.groupNormSiLU($0[0], groups: 32, gamma: $0[1], beta: $0[2])  // the model's fused op
            }
        }
        return [
            ("sgemm_1024_gflops", rounded(flops / (matmulMs * 1e-3) / 1e9, 2)),
            ("sgemm_1024_c_gflops", rounded(flops / (rawMs * 1e-3) / 1e9, 2)),
            ("conv3x3_64_128_fwd_ms", rounded(convFwd)),
            ("conv3x3_64_128_fwd_kernel_ms", rounded(convRaw)),
            ("conv3x3_64_128_fwdbwd_ms", rounded(convFwdBwd)),
            ("gn_silu_fwdbwd_ms", rounded(gn)),
            ("threads", Parallel.maxThreads),
            ("blas", BLAS.configuration),
            ("blas_core", BLAS.coreName),
        ]
    }
}
