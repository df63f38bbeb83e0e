// The `ecdp` command-line tool: one file per subcommand.
import ArgumentParser
import Foundation
import GradKernels

@main
struct ECDPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecdp",
        abstract: "Train, evaluate and convert ECDP super-resolution diffusion models.",
        subcommands: [Demo.self, Bench.self]
    )
}

/// Thread options shared by compute-heavy subcommands. Only the CLI sets thread counts.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for BLAS and the engine's loops (default: all cores).")
    var threads: Int?

    func apply() {
        Allocator.configureForTraining()
        let n = threads ?? ProcessInfoCores.count
        BLAS.setThreadCount(n)
        Parallel.setMaxThreads(n)
    }
}

enum ProcessInfoCores {
    static var count: Int { max(1, Parallel.maxThreads) }
}
