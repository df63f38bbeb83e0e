// The `ecdp` command-line tool: one file per subcommand. A library, so tests run the
// commands in-process; `Sources/ecdp/main.swift` is the executable.
import ArgumentParser
import Foundation
import GradKernels
import Imaging

public struct ECDPCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "ecdp",
        abstract: "Train, evaluate and convert ECDP super-resolution diffusion models.",
        version: Version.text,
        subcommands: [Train.self, Resume.self, PretrainRRDB.self, Finetune.self, Info.self, Upscale.self, Degrade.self, Demo.self, Bench.self, Metrics.self, Eval.self, Prepare.self, FindBC.self, Tables.self, Inspect.self, Convert.self, Doctor.self, ReportCommand.self]
    )

    /// Parses and runs the command line, exiting with the project's codes: 0 success, 1 a
    /// failure (one line on stderr), 2 a usage error (ArgumentParser's own is 64), 128 + N
    /// after signal N stopped a run (docs/robustness.md).
    public static func runAndExit() -> Never {
        do {
            try applyKernelTuning(ProcessInfo.processInfo.environment)
            var command = try parseAsRoot(nil)
            try command.run()
            Foundation.exit(0)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if !message.isEmpty {
                if code == .success { print(message) } else { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            }
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }

    /// `ECDP_KERNEL_TUNING="name=value,…"`: the convolution's path thresholds for this
    /// process (docs/performance.md: "Kernel settings"), e.g. what `ecdp bench --variant`
    /// found faster on a machine. A bad setting stops the tool before it computes anything.
    static func applyKernelTuning(_ environment: [String: String]) throws {
        guard let text = environment["ECDP_KERNEL_TUNING"], !text.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        let assignments = text.split(separator: ",").map(String.init)
        do {
            KernelTuning.setProcessWide(try KernelTuning().applying(assignments))
        } catch {
            throw ValidationError("ECDP_KERNEL_TUNING: \(error)")
        }
    }

    /// Re-executes the tool once with OpenBLAS's load-time settings fixed, which it reads
    /// only when it loads: `OPENBLAS_CORETYPE` when its own kernel choice is known to be
    /// slower on this CPU (see `BLAS.recommendedCoreType`), and `OPENBLAS_NUM_THREADS=1`
    /// because the engine runs OpenBLAS single-threaded (`BLAS.singleThreaded`) — without
    /// it OpenBLAS starts a thread pool at load that spins for a while on the second core.
    /// A user's own setting of either always wins.
    public static func selectBLASKernels() {
        // Before any kernel (compiled for AVX2+FMA in release builds) can run.
        CPUFeatures.checkAtStartup()
        // Past a file-size limit (RLIMIT_FSIZE) a write should fail with EFBIG and a message
        // naming the file, not kill the process with SIGXFSZ halfway through a checkpoint.
        signal(SIGXFSZ, SIG_IGN)
        PNG.setConversionNotice { FileHandle.standardError.write(Data("note: \($0)\n".utf8)) }
        let env = ProcessInfo.processInfo.environment
        guard env["ECDP_BLAS_SELECTED"] == nil else { return }
        var changed = false
        if env["OPENBLAS_CORETYPE"] == nil, let core = BLAS.recommendedCoreType() {
            setenv("OPENBLAS_CORETYPE", core, 1)
            changed = true
        }
        if env["OPENBLAS_NUM_THREADS"] == nil {
            setenv("OPENBLAS_NUM_THREADS", "1", 1)
            changed = true
        }
        guard changed else { return }
        setenv("ECDP_BLAS_SELECTED", "1", 1)
        var argv = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &argv)
        // execv returns only on failure: carry on with OpenBLAS's own choice.
    }
}

/// Thread options shared by compute-heavy subcommands. Only the CLI sets thread counts.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for BLAS and the engine's loops (default: all cores).")
    var threads: Int?

    func apply() {
        Allocator.configureForTraining()
        let n = threads ?? Parallel.maxThreads  // defaults to all cores
        Parallel.setMaxThreads(n)
    }
}

/// A problem with an input file or folder (missing, empty, not what it should be): exit code 1.
/// A malformed argument is a `ValidationError` instead (exit code 64, usage shown).
struct InputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
