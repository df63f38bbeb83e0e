// swift-tools-version:6.0
// One package for the whole toolkit. Dependency direction (nothing points back):
// GradKernels ← Grad ← GradNN ← Backbones ← ECDP; GradNN ← Checkpoints; Grad ← Imaging;
// {ECDP, Checkpoints, Imaging} ← Evaluation (metrics, LPIPS, evaluation runs);
// {ECDP, Checkpoints, Imaging, Evaluation} ← Training; {Training, Evaluation} ← Reproduction (the
// table orchestration); everything ← ECDPCommandLine ← ecdp.
// Every target lists the modules it imports (no @_exported imports).
import PackageDescription

/// The hot loops in GradKernels are written for LLVM's vectorizer; on x86-64 they are
/// compiled for AVX2 + FMA (Haswell, 2013, and every later x86 server CPU) in release
/// builds. Override with ECDP_TARGET_CPU=<llvm cpu name>, or "generic" to disable.
let kernelCPU = Context.environment["ECDP_TARGET_CPU"] ?? {
    #if arch(x86_64)
    return "haswell"
    #else
    return "generic"
    #endif
}()

/// The CPU choice as a define, in the kernels (for `ecdp --version`) and in the command line
/// (which checks at startup that this CPU has what the kernels were compiled for).
let kernelDefines: [SwiftSetting] = kernelCPU == "generic" ? [.define("ECDP_KERNELS_GENERIC")]
    : [.define(kernelCPU == "haswell" ? "ECDP_KERNELS_HASWELL" : "ECDP_KERNELS_CUSTOM", .when(configuration: .release))]

let kernelSettings: [SwiftSetting] = {
    // The kernels are optimised in debug builds too: the test suite runs in debug, and
    // -Onone loops make its solver-heavy tests (adaptive solves, fine-tuning) many times
    // slower. Debugging a kernel itself: build with ECDP_DEBUG_KERNELS=1.
    let debug: [SwiftSetting] = Context.environment["ECDP_DEBUG_KERNELS"] == nil
        ? [.unsafeFlags(["-O"], .when(configuration: .debug))] : []
    guard kernelCPU != "generic" else { return debug + kernelDefines }
    return debug + kernelDefines + [.unsafeFlags(["-target-cpu", kernelCPU], .when(configuration: .release))]
}()

let package = Package(
    name: "ECDP",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ecdp", targets: ["ecdp"]),
        .library(name: "Grad", targets: ["Grad", "GradNN"]),
    ],
    // Exact versions: a build never picks up a new release by itself (Package.resolved stays
    // out of git: on these machines the package copies' commit ids are not upstream's).
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
    ],
    targets: [
        // System-library shims (Debian: libopenblas-dev, libpng-dev, libhdf5-dev).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        // glibc's malloc tuning (mallopt), for the engine's allocation policy.
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),

        // The engine.
        .target(name: "GradKernels", dependencies: ["CBLAS", "CMalloc"], swiftSettings: kernelSettings),
        .target(name: "Grad", dependencies: ["GradKernels"]),
        .target(name: "GradNN", dependencies: ["Grad", "GradKernels"]),

        // Images: libpng codec (C, so libpng's longjmp errors stay in C) and image ops.
        .target(name: "PNGCodec", dependencies: ["CPNG"]),
        .target(name: "AtomicFile"),
        // Where the repository's shipped files are, from any working directory (ECDP_HOME).
        .target(name: "ProjectFiles"),
        .target(name: "Imaging", dependencies: ["Grad", "PNGCodec", "AtomicFile"]),

        // torchvision feature networks (VGG, AlexNet, SqueezeNet) for perceptual losses and LPIPS.
        .target(name: "Backbones", dependencies: ["Grad", "GradNN"]),

        // The model and what is built on it.
        .target(name: "ECDP", dependencies: ["Grad", "GradNN", "Backbones"]),
        // `ecdp report`: self-contained HTML pages of runs, evaluations and tables.
        .target(name: "Reporting", dependencies: ["Grad", "Imaging"]),
        // Processes of a data-parallel run: one, or Open MPI's loaded at run time.
        .target(name: "Distributed"),
        .target(name: "Training", dependencies: ["Distributed", "ProjectFiles", "Grad", "GradNN", "ECDP", "Imaging", "Checkpoints", "Evaluation", "AtomicFile", .product(name: "Yams", package: "Yams")], path: "Training",
                exclude: ["configs", "data"]),
        .target(name: "Evaluation", dependencies: ["ProjectFiles", "Grad", "GradNN", "Backbones", "ECDP", "Imaging", "Checkpoints", "AtomicFile",
                                                   .product(name: "Crypto", package: "swift-crypto")], path: "Evaluation", exclude: ["tables"]),
        .target(name: "HDF5Bridge", dependencies: ["CHDF5"]),
        // The table orchestration: trains, searches and evaluates what a paper table needs
        // (specs in Evaluation/tables/), caching every step by the hash of its inputs.
        .target(name: "Reproduction", dependencies: ["ProjectFiles", "Grad", "GradKernels", "ECDP", "Imaging", "Training", "Evaluation", "Checkpoints",
                                                     "AtomicFile", .product(name: "Yams", package: "Yams"),
                                                     .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Checkpoints", dependencies: ["Grad", "GradNN", "HDF5Bridge", "AtomicFile",
                                                    .product(name: "ZIPFoundation", package: "ZIPFoundation")],
                path: "Checkpoints", exclude: ["pretrained", "lpips"]),

        // The command-line tool: its commands as a library (tested in-process), and the executable.
        .target(name: "ECDPCommandLine", dependencies: [
            "Grad", "GradNN", "GradKernels", "ECDP", "Imaging", "Training", "Evaluation", "Checkpoints", "AtomicFile", "Reproduction", "Distributed", "Reporting", "ProjectFiles",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: kernelDefines),
        .executableTarget(name: "ecdp", dependencies: ["ECDPCommandLine"]),
        // The readers of untrusted input as fuzz targets (docs/robustness.md, `make fuzz`).
        .executableTarget(name: "ecdp-fuzz", dependencies: ["Checkpoints", "Imaging", "Training"]),

        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "GradKernelsTests", dependencies: ["GradKernels"]),
        .testTarget(name: "AtomicFileTests", dependencies: ["AtomicFile"]),
        .testTarget(name: "GradTests", dependencies: ["Grad", "GradKernels", "TestSupport"]),
        .testTarget(name: "GradNNTests", dependencies: ["Grad", "GradNN", "TestSupport"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "Grad", "TestSupport"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "ECDP", "Checkpoints", "Grad", "Imaging", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "ECDP", "Checkpoints", "Evaluation", "Grad", "GradNN", "Imaging", "TestSupport"]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints", "Grad", "GradNN", "TestSupport"]),
        .testTarget(name: "ECDPTests", dependencies: ["ECDP", "Checkpoints", "Grad", "GradNN", "TestSupport"]),
        .testTarget(name: "ReproductionTests", dependencies: ["Reproduction", "Evaluation", "Training", "TestSupport"]),
        .testTarget(name: "CommandLineTests", dependencies: ["ECDPCommandLine", "TestSupport", "Training", "Checkpoints", "Grad", "Imaging",
                                                            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    ],
    swiftLanguageModes: [.v6]
)
