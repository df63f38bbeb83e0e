// The only file in the project that imports CBLAS. Every matrix product, in every
// layer above, goes through these wrappers, so threading and layout live in one place.
import CBLAS
import Foundation

/// Thin, row-major wrappers over OpenBLAS.
public enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C`, all row-major.
    /// - Parameters: `m × k` is op(A), `k × n` is op(B), `m × n` is C; `lda`, `ldb`, `ldc`
    ///   are the row strides of the stored (untransposed) matrices.
    @inlinable
    public static func sgemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // BLAS leaves C untouched for k = 0 only when beta = 1; make the contract explicit.
            if beta == 0 { c.update(repeating: 0, count: (m - 1) * ldc + n) }
            return
        }
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k),
                    alpha, a, blasint(lda), b, blasint(ldb),
                    beta, c, blasint(ldc))
    }

    /// `y = alpha · op(A) · x + beta · y`, A row-major `m × n`.
    @inlinable
    public static func sgemv(
        trans: Bool = false, m: Int, n: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
        beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), alpha, a, blasint(lda), x, 1, beta, y, 1)
    }

    /// `y += alpha · x`.
    @inlinable
    public static func saxpy(count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        guard count > 0 else { return }
        cblas_saxpy(blasint(count), alpha, x, 1, y, 1)
    }

    /// The number of threads OpenBLAS uses. Only the command-line tool should set it.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// Sets OpenBLAS's thread count (process-wide: call it once, from the CLI).
    public static func setThreadCount(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

    /// Build configuration reported by OpenBLAS (core type and threading), for benchmarks.
    public static var configuration: String { String(cString: openblas_get_config()) }

    /// The kernel set OpenBLAS chose at load time (e.g. "Haswell", "Zen", "Cooperlake").
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// A better `OPENBLAS_CORETYPE` than OpenBLAS's own detection for this CPU, if any.
    ///
    /// OpenBLAS 0.3.21 (Debian 12) takes AMD Zen 4 (AVX-512 with BF16) for Cooperlake
    /// and runs its AVX-512 kernels, which Zen 4 executes as two 256-bit halves. Its Zen
    /// kernels (AVX2) were faster on every convolution-shaped sgemm we measured there:
    /// 64×16384×576 6.4 ms vs 8.4 ms, 64×576×16384 8.4 vs 10.3 (2 threads, min of 40).
    /// OpenBLAS reads the variable only when it loads, so the CLI re-executes itself
    /// with it set (see `ecdp`'s startup); an explicit user setting always wins.
    public static func recommendedCoreType(cpuInfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> String? {
        guard let cpuInfo else { return nil }
        let firstCPU = cpuInfo.components(separatedBy: "\n\n").first ?? ""
        func field(_ name: String) -> String? {
            firstCPU.split(separator: "\n").first { $0.hasPrefix(name) }
                .flatMap { $0.split(separator: ":", maxSplits: 1).last }
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        guard field("vendor_id") == "AuthenticAMD", let family = field("cpu family").flatMap(Int.init), family >= 25,
              let flags = field("flags")?.split(separator: " "), flags.contains("avx512f") else { return nil }
        return "Zen"
    }
}
