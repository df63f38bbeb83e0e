// The `ecdp` command-line tool: one file per subcommand.
import ArgumentParser
import Foundation
import GradKernels

@main
struct ECDPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecdp",
        abstract: "Train, evaluate and convert ECDP super-resolution diffusion models.",
        subcommands: [Train.self, Resume.self, PretrainRRDB.self, Finetune.self, Info.self, Upscale.self, Degrade.self, Demo.self, Bench.self, Metrics.self, Inspect.self, Convert.self]
    )

    static func main() {
        selectBLASKernels()
        main(nil)
    }

    /// Re-executes the tool with `OPENBLAS_CORETYPE` set when OpenBLAS's own choice is
    /// known to be slower on this CPU (see `BLAS.recommendedCoreType`). OpenBLAS reads
    /// the variable only at load time, hence the re-exec; a user's setting always wins.
    static func selectBLASKernels() {
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil, env["ECDP_BLAS_SELECTED"] == nil,
              let core = BLAS.recommendedCoreType() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
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
