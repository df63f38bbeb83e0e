// `ecdp doctor`: checks in seconds what a long run needs, and says what to do about each
// failure — the CPU features the build's kernels assume, OpenBLAS's kernel choice and
// threads, the libraries' versions, a gradient check and an adjoint-vs-direct check on
// `tiny`, a 10-step speed probe of `small` (reported against the range measured on this
// project's machines, never a failure), and the run folder's permissions and free space.
import ArgumentParser
import Checkpoints
import ECDP
import Foundation
import Grad
import GradKernels
import GradNN
import Imaging
import Training

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check this machine and build before a long run: CPU, BLAS, libraries, gradients, speed, disk.",
        discussion: "Exit code 1 when a check fails; each failure says what to do. See docs/cli.md.")

    @Option(name: .customLong("run"), help: "The folder a run will write to (checked for write permission and free space).")
    var runFolder = "."
    @Flag(help: "One JSON object per check.") var json = false
    @Flag(help: "Skip the numeric checks (gradients, adjoint, speed).") var quick = false
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        threadOptions.apply()
        var checker = DoctorChecks(runFolder: runFolder)
        if quick { checker.numeric = false }
        let results = checker.all()
        for r in results {
            if json {
                var line = JSONLine()
                line.add("check", r.name)
                line.add("status", r.status.rawValue)
                line.add("detail", r.detail)
                if let advice = r.advice { line.add("advice", advice) }
                print(line.text)
            } else {
                print("\(r.status.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0)) \(r.name): \(r.detail)"
                      + (r.advice.map { "\n     → \($0)" } ?? ""))
            }
        }
        if results.contains(where: { $0.status == .fail }) { throw ExitCode.failure }
    }
}

/// The checks, with every input injectable so tests can make each fail.
struct DoctorChecks {
    enum Status: String { case ok, warn, fail }

    struct Result {
        var name: String
        var status: Status
        var detail: String
        var advice: String?
    }

    var runFolder: String
    var cpuInfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
    var requiredFlags = CPUFeatures.requiredByBuild
    var numeric = true
    /// Seconds per `small` training step; measured unless a test injects it.
    var speedProbe: () -> Double = DoctorChecks.measureSmallStep
    /// The expected range of a `small` step with 2 threads on this project's 2-core machines.
    static let expectedStepSeconds = 0.35...0.9

    func all() -> [Result] {
        var results = [cpu(), blas(), libraries()]
        if numeric { results += [gradients(), adjoint(), speed()] }
        results.append(folder())
        return results
    }

    func cpu() -> Result {
        let model = CPUFeatures.field("model name", in: cpuInfo) ?? "unknown CPU"
        guard let problem = CPUFeatures.problem(cpuInfo: cpuInfo, required: requiredFlags) else {
            let needs = requiredFlags.isEmpty ? "no special instructions" : requiredFlags.joined(separator: "+").uppercased()
            return Result(name: "cpu", status: .ok, detail: "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores; this build needs \(needs)")
        }
        return Result(name: "cpu", status: .fail, detail: "\(model): \(problem.reason)", advice: problem.advice)
    }

    func blas() -> Result {
        let env = ProcessInfo.processInfo.environment
        let threads = env["OPENBLAS_NUM_THREADS"] ?? "unset"
        var detail = "OpenBLAS \(BLAS.configuration), kernels \(BLAS.coreName), OPENBLAS_NUM_THREADS=\(threads)"
        if let forced = env["OPENBLAS_CORETYPE"] { detail += ", OPENBLAS_CORETYPE=\(forced)" }
        if let better = BLAS.recommendedCoreType(cpuInfo: cpuInfo), env["OPENBLAS_CORETYPE"] == nil {
            return Result(name: "blas", status: .warn, detail: detail + "; faster kernels exist for this CPU: \(better)",
                          advice: "run through the `ecdp` executable (it selects them at startup) or set OPENBLAS_CORETYPE=\(better)")
        }
        if threads != "1" {
            return Result(name: "blas", status: .warn, detail: detail,
                          advice: "the engine runs OpenBLAS single-threaded and parallelises itself; set OPENBLAS_NUM_THREADS=1")
        }
        return Result(name: "blas", status: .ok, detail: detail)
    }

    func libraries() -> Result {
        var parts = ["libpng \(PNG.libraryVersion)", "HDF5 \(HDF5File.libraryVersion)"]
        parts.append("Open MPI: " + (Self.commandOutput("mpirun", ["--version"])?.split(separator: "\n").first.map(String.init)
            ?? "not installed (only distributed runs need it)"))
        return Result(name: "libraries", status: .ok, detail: parts.joined(separator: ", "))
    }

    /// ⟨∇L, v⟩ by the tape against a central difference along a random direction v, for the
    /// `tiny` model's training loss on a fixed batch.
    func gradients() -> Result {
        let cfg: TrainingConfig
        do { cfg = try TrainingConfig.resolve("tiny") } catch {
            return Result(name: "gradients", status: .fail, detail: "\(error)", advice: "run from the repository root")
        }
        let model = cfg.makeModel(seed: 0)
        var rng = RandomGenerator(seed: 1)
        let params = model.parameters().map(\.parameter)
        for p in params { p.value = p.value + Tensor.randomNormal(p.shape, std: 0.02, using: &rng) }
        let hr = Tensor.randomUniform([1, 3, 32, 32], using: &rng), lr = Tensor.randomUniform([1, 3, 8, 8], using: &rng)
        let noise = Tensor.randomNormal([1, 3, 32, 32], using: &rng)
        let loss = { withoutDerivatives { model.loss(hr: hr, lr: lr, times: [120], noise: noise) }.scalars[0] }
        let tape = vjp(at: [], parameters: params, cotangent: nil) { _ in model.loss(hr: hr, lr: lr, times: [120], noise: noise) }
        // v = (ĝ + r̂)/√2: half along the gradient, so ⟨∇L, v⟩ stands well above fp32 noise in
        // the difference quotient, half a random direction, so a wrong direction still shows.
        let random = params.map { Tensor.randomNormal($0.shape, using: &rng) }
        func norm(_ ts: [Tensor]) -> Float { Float(ts.reduce(0.0) { $0 + $1.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } }.squareRoot()) }
        let gNorm = norm(tape.parameterGradients), rNorm = norm(random)
        let directions = zip(tape.parameterGradients, random).map { g, r in (g * (1 / gNorm) + r * (1 / rNorm)) * Float(0.5.squareRoot()) }
        let analytic = zip(tape.parameterGradients, directions).reduce(0.0) { s, gv in
            s + zip(gv.0.scalars, gv.1.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        let saved = params.map(\.value)
        let h: Float = 1e-2
        func shifted(_ sign: Float) -> Double {
            for (p, (v, d)) in zip(params, zip(saved, directions)) { p.value = v + d * (sign * h) }
            return Double(loss())
        }
        let numeric = (shifted(1) - shifted(-1)) / (2 * Double(h))
        for (p, v) in zip(params, saved) { p.value = v }
        let error = abs(analytic - numeric) / max(abs(numeric), 1e-12)
        let detail = String(format: "tiny's loss along a direction (half random, half the gradient): tape %.6g, central difference %.6g, relative error %.2e", analytic, numeric, error)
        return error < 1e-2 ? Result(name: "gradients", status: .ok, detail: detail)
            : Result(name: "gradients", status: .fail, detail: detail,
                     advice: "the engine's derivatives are wrong on this machine: run `make test` and report the failing gradcheck")
    }

    /// The adjoint method's parameter gradients against back-propagation through the same
    /// Dormand–Prince solve (tiny, 16², rtol 1e-4; the bound is the test suite's).
    func adjoint() -> Result {
        guard let cfg = try? TrainingConfig.resolve("tiny") else {
            return Result(name: "adjoint", status: .fail, detail: "no tiny config", advice: "run from the repository root")
        }
        let model = cfg.makeModel(seed: 0)
        var rng = RandomGenerator(seed: 2)
        let params = model.unet.parameters().map(\.parameter)
        for p in params { p.value = p.value + Tensor.randomNormal(p.shape, std: 0.02, using: &rng) }
        let lr = Tensor.randomUniform([1, 3, 4, 4], using: &rng)
        let xT = Tensor.randomNormal([1, 3, 16, 16], using: &rng), target = Tensor.randomNormal([1, 3, 16, 16], using: &rng)
        let feats = withoutDerivatives { model.rrdb(lr) }
        let f: (Tensor, Double, Tensor) -> Tensor = { y, t, c in model.probabilityFlow(x: y, time: t, lrFeatures: c) }
        let loss: (Tensor) -> Tensor = { y in ((y - target) * (y - target)).mean() }
        let solver = DormandPrince(rtol: 1e-4, atol: 1e-4)
        do {
            let adjoint = try Adjoint.gradients(of: f, parameters: params, extra: feats, y0: xT, t0: 300, t1: 60, solver: solver) { y in
                vjp(at: [y], parameters: [], cotangent: nil) { loss($0[0]) }.inputGradients[0]
            }
            var failure: Error?
            let direct = vjp(at: [xT], parameters: params, cotangent: nil) { ins in
                do { return loss(try solver.integrate({ y, t in f(y, t, feats) }, from: ins[0], t0: 300, t1: 60, jumpTimes: [60]).y) } catch {
                    failure = error
                    return ins[0].sum()
                }
            }
            if let failure { throw failure }
            var diff = 0.0, norm = 0.0
            for (a, d) in zip(adjoint.parameters, direct.parameterGradients) {
                for (x, y) in zip(a.scalars, d.scalars) { diff += Double(x - y) * Double(x - y); norm += Double(y) * Double(y) }
            }
            let error = (diff / max(norm, 1e-30)).squareRoot()
            let detail = String(format: "tiny, 16², rtol 1e-4: relative error %.2e (bound 0.2), %d + %d evaluations", error,
                                adjoint.forwardEvaluations, adjoint.backwardEvaluations)
            return error < 0.2 ? Result(name: "adjoint", status: .ok, detail: detail)
                : Result(name: "adjoint", status: .fail, detail: detail, advice: "fine-tuning gradients are wrong here: run `make test`")
        } catch {
            return Result(name: "adjoint", status: .fail, detail: "\(error)", advice: "run `make test`")
        }
    }

    func speed() -> Result {
        let seconds = speedProbe()
        let threads = Parallel.maxThreads
        let range = Self.expectedStepSeconds
        var detail = String(format: "`small` training step: %.3f s with %d threads (this project's 2-core machines: %.2f–%.2f s with 2)",
                            seconds, threads, range.lowerBound, range.upperBound)
        if seconds > range.upperBound * 2 / Double(max(1, min(threads, 2))) {
            detail += "; slower than expected"
            return Result(name: "speed", status: .warn, detail: detail,
                          advice: "check the blas line above, other load on the machine (`top`), and that this is a release build (`make build`)")
        }
        return Result(name: "speed", status: .ok, detail: detail)
    }

    /// The median of 10 `small` training steps (after 2 warm-up steps).
    static func measureSmallStep() -> Double {
        guard let cfg = try? TrainingConfig.resolve("small") else { return .nan }
        let model = cfg.makeModel(seed: 0)
        var rng = RandomGenerator(seed: 0)
        let n = cfg.data.batch, size = cfg.data.hrCrop, s = cfg.data.scale
        let hr = Tensor.randomUniform([n, 3, size, size], using: &rng), lr = Tensor.randomUniform([n, 3, size / s, size / s], using: &rng)
        let params = model.parameters()
        let adam = Adam(groups: [ParameterGroup(name: "all", parameters: params, learningRate: 1e-4)])
        return medianMilliseconds(warmup: 2, repetitions: 10) {
            adam.zeroGradients()
            accumulateGradients(of: params.map(\.parameter)) { model.loss(hr: hr, lr: lr, using: &rng) }
            adam.step()
        } / 1000
    }

    func folder() -> Result {
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        let existing = fm.fileExists(atPath: runFolder, isDirectory: &isFolder)
        let target = existing ? runFolder : (runFolder as NSString).deletingLastPathComponent.isEmpty ? "." : (runFolder as NSString).deletingLastPathComponent
        guard !existing || isFolder.boolValue else {
            return Result(name: "run folder", status: .fail, detail: "\(runFolder) is a file", advice: "choose a folder for --run")
        }
        guard fm.isWritableFile(atPath: target) else {
            return Result(name: "run folder", status: .fail, detail: "\(target) is not writable", advice: "choose a folder you can write to, or fix its permissions")
        }
        var stats = statvfs()
        guard statvfs(target, &stats) == 0 else {
            return Result(name: "run folder", status: .warn, detail: "\(target): free space unknown")
        }
        let free = Double(stats.f_bavail) * Double(stats.f_frsize)
        let detail = String(format: "%@ writable, %.1f GB free", target, free / 1e9)
        if free < 100e6 {
            return Result(name: "run folder", status: .fail, detail: detail, advice: "a checkpoint of `small` is 70 MB and a paper model's 500 MB: free some space")
        }
        if free < 2e9 {
            return Result(name: "run folder", status: .warn, detail: detail, advice: "a paper-size run keeps checkpoints of ~500 MB each; free more space before a long run")
        }
        return Result(name: "run folder", status: .ok, detail: detail)
    }

    /// A command's stdout, or nil when it is not installed or fails.
    static func commandOutput(_ name: String, _ arguments: [String]) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = Pipe()
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }
}
