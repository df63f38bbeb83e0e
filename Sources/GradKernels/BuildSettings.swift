// How this build of the kernels was compiled, for `ecdp --version` and bug reports.
public enum BuildSettings {
    /// "release" or "debug".
    public static var configuration: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }

    /// The instruction set the kernel loops were compiled for.
    public static var kernelTarget: String {
        #if ECDP_KERNELS_HASWELL
        return "AVX2+FMA (-target-cpu haswell)"
        #elseif ECDP_KERNELS_CUSTOM
        return "the CPU named by ECDP_TARGET_CPU at build time"
        #else
        return "baseline x86-64 / generic (no -target-cpu)"
        #endif
    }
}
