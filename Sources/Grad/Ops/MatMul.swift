// Matrix products through BLAS sgemm: matmul of rank-2 tensors and the affine map of
// `Linear` (x · Wᵀ + b, PyTorch's weight layout [out, in]).
internal import GradKernels

extension Tensor {
    /// `op(a) · op(b)` for rank-2 tensors, op = transpose when the flag is set.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul expects rank-2 tensors, got \(a.shape) and \(b.shape)")
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (k2, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        precondition(k == k2, "matmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        NominalFLOPs.add(2 * m * n * k)  // the gradients are matmuls too and count themselves
        let y = Tensor.computed([m, n]) { c in
            a.withUnsafePointer { pa in b.withUnsafePointer { pb in
                BLAS.parallelSgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k,
                           a: pa, lda: a.shape[1], b: pb, ldb: b.shape[1], c: c, ldc: n)
            } }
        }
        let av = a.detached(), bv = b.detached(), ta = a.isTracked, tb = b.isTracked
        return y.recorded("matmul", inputs: [a, b]) { g in
            // C = A·B: dA = G·Bᵀ, dB = Aᵀ·G (with the stored layouts swapped as needed).
            let da: Tensor? = !ta ? nil : transposeA
                ? matmul(bv, g, transposeA: transposeB, transposeB: true)
                : matmul(g, bv, transposeB: !transposeB)
            let db: Tensor? = !tb ? nil : transposeB
                ? matmul(g, av, transposeA: true, transposeB: transposeA)
                : matmul(av, g, transposeA: !transposeA)
            return [da, db]
        }
    }

    /// `x · Wᵀ + b` for x `[N, in]`, weight `[out, in]`, bias `[out]`.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        let y = matmul(x, weight, transposeB: true)
        guard let bias else { return y }
        return y + bias
    }
}
