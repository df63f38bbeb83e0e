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
        _ = singleThreaded
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
        _ = singleThreaded
        cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), alpha, a, blasint(lda), x, 1, beta, y, 1)
    }

    /// `y += alpha · x`.
    @inlinable
    public static func saxpy(count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        guard count > 0 else { return }
        _ = singleThreaded
        cblas_saxpy(blasint(count), alpha, x, 1, y, 1)
    }

    /// OpenBLAS runs on one thread; the engine parallelizes around its calls (bands of a
    /// convolution, blocks of a product, see `parallelSgemm`). Its own pool, when it had
    /// two threads, kept a thread spinning in sched_yield between calls, taking the core
    /// from the engine's loops: 10–20 % of a training step's CPU time in a profile.
    @usableFromInline
    static let singleThreaded: Void = { openblas_set_num_threads(1) }()

    /// `sgemm` split into independent blocks of C rows or columns run on the engine's
    /// threads. The blocks depend only on the shape, and each is one single-threaded
    /// `sgemm` over the full k, so the bits do not depend on the thread count. Every block
    /// packs the other operand in full, so a block spans at least 512 rows (or columns)
    /// where it can: 1024² went from 8 blocks to 2 and from 136.7 to 144.1 GFLOP/s (medians
    /// of 40 interleaved runs of each in one process, two processes, Zen 3).
    public static func parallelSgemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let flops = 2 * m * n * k
        let blocks = min(8, flops >> 22, max(m, n) / 16, max(2, max(m, n) / 512))
        guard blocks > 1 else {
            sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                  b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        let splitRows = m >= n
        Parallel.forEach(chunks: blocks, work: flops) { i in
            let total = splitRows ? m : n
            let lo = total * i / blocks, hi = total * (i + 1) / blocks
            if splitRows {
                // Rows lo..<hi of op(A): row offset of A, or column offset of a stored Aᵀ.
                sgemm(transA: transA, transB: transB, m: hi - lo, n: n, k: k, alpha: alpha,
                      a: a + (transA ? lo : lo * lda), lda: lda, b: b, ldb: ldb,
                      beta: beta, c: c + lo * ldc, ldc: ldc)
            } else {
                sgemm(transA: transA, transB: transB, m: m, n: hi - lo, k: k, alpha: alpha,
                      a: a, lda: lda, b: b + (transB ? lo * ldb : lo), ldb: ldb,
                      beta: beta, c: c + lo, ldc: ldc)
            }
        }
    }

    /// Build configuration reported by OpenBLAS (core type and threading), for benchmarks.
    public static var configuration: String { String(cString: openblas_get_config()) }

    /// The kernel set OpenBLAS chose at load time (e.g. "Haswell", "Zen", "Cooperlake").
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// A better `OPENBLAS_CORETYPE` than OpenBLAS's own choice (`current`) on this CPU, if any.
    ///
    /// Two failures of OpenBLAS 0.3.21's (Debian 12) detection, both measured:
    /// - CPUs newer than its tables fall back to generic kernels: an Intel Xeon of model
    ///   207 (AVX-512, BF16) got `Prescott` (SSE3), 64 GFLOP/s on a 1024² sgemm against
    ///   312 with `SkylakeX` (2 threads). Any CPU whose flags allow better kernels than
    ///   the chosen ones gets the best its flags support: `Cooperlake` with AVX-512 BF16,
    ///   `SkylakeX` with AVX-512, `Haswell` with AVX2 + FMA.
    /// - AMD Zen 4 (AVX-512 with BF16) is taken for Cooperlake, whose AVX-512 kernels Zen 4
    ///   executes as two 256-bit halves; its `Zen` kernels (AVX2) were faster on every
    ///   convolution-shaped sgemm we measured there: 64×16384×576 6.4 ms vs 8.4 ms,
    ///   64×576×16384 8.4 vs 10.3 (2 threads, min of 40).
    /// OpenBLAS reads the variable only when it loads, so the CLI re-executes itself with
    /// it set (see `ecdp`'s startup); an explicit user setting always wins.
    public static func recommendedCoreType(
        cpuInfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        current: String = coreName
    ) -> String? {
        guard let cpuInfo else { return nil }
        let firstCPU = cpuInfo.components(separatedBy: "\n\n").first ?? ""
        func field(_ name: String) -> String? {
            firstCPU.split(separator: "\n").first { $0.hasPrefix(name) }
                .flatMap { $0.split(separator: ":", maxSplits: 1).last }
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let flags = Set((field("flags") ?? "").split(separator: " ").map(String.init))
        let hasAVX512 = ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
        let recommended: String
        if field("vendor_id") == "AuthenticAMD", let family = field("cpu family").flatMap(Int.init), family >= 25 {
            guard flags.contains("avx2") else { return nil }
            recommended = "Zen"
        } else if hasAVX512 {
            recommended = flags.contains("avx512_bf16") ? "Cooperlake" : "SkylakeX"
        } else if flags.contains("avx2") && flags.contains("fma") {
            recommended = "Haswell"
        } else {
            return nil
        }
        // Keep OpenBLAS's choice when it is already a kernel set of the same class.
        let sameClass: [String: Set<String>] = [
            "Zen": ["zen"],
            "Cooperlake": ["cooperlake", "sapphirerapids"],
            "SkylakeX": ["skylakex", "cooperlake", "sapphirerapids"],
            "Haswell": ["haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"],
        ]
        return sameClass[recommended, default: []].contains(current.lowercased()) ? nil : recommended
    }
}
