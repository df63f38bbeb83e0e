// C = A · B (β = 0) for the Winograd GEMMs, without packing: A (m × k, row-major, the
// transformed weights U[ξ]) is read in place by broadcasts, B (k × n, the transformed
// input V[ξ]) by rows of 8 or 16 consecutive floats, and each 4 × 16 block of C stays in
// eight vector registers for the whole k loop (4 × 24 would need more than AVX2's sixteen
// registers with its operands, and spilled). The Winograd GEMMs are many and small
// (36 per band, Cout × band tiles × Cin, down to 32 × 16 × 96 in the RRDB), and through
// sgemm each call paid for packing U and V and a β = 0 pass over C (packing and β passes
// were 15 % of the `small` step's CPU time beside 30 % in sgemm's kernel, all callers
// together; docs/performance.md); here a call costs its multiply-adds.
// It runs F(4×4)'s forward GEMMs (every band-layout convolution on maps of 8² and up);
// F(2×2)'s remaining band GEMMs (maps under 8²) stay on sgemm, where on 128 channels it
// measured no faster.

enum PanelGEMM {
    /// C[i][j] = Σ_p A[i][p] · B[p][j] for i < m, j < n.
    static func multiply(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                         b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
            return
        }
        var j = 0
        while j + 16 <= n {
            rowBlocks(vectors: 2, m: m, k: k, a: a, lda: lda, b: b + j, ldb: ldb, c: c + j, ldc: ldc)
            j += 16
        }
        if j + 8 <= n {
            rowBlocks(vectors: 1, m: m, k: k, a: a, lda: lda, b: b + j, ldb: ldb, c: c + j, ldc: ldc)
            j += 8
        }
        guard j < n else { return }
        // The last 1–7 columns: through a zero-padded copy of B's columns and a scratch C.
        let width = n - j
        Workspace.withBuffer(count: 8 * k + 8 * m) { scratch in
            let panel = scratch, out = scratch + 8 * k
            for p in 0..<k {
                let src = b + p * ldb + j, dst = panel + 8 * p
                for l in 0..<8 { dst[l] = l < width ? src[l] : 0 }
            }
            rowBlocks(vectors: 1, m: m, k: k, a: a, lda: lda, b: panel, ldb: 8, c: out, ldc: 8)
            for i in 0..<m {
                for l in 0..<width { c[i * ldc + j + l] = out[8 * i + l] }
            }
        }
    }

    /// Every block of four rows of C for one panel of `8 · vectors` columns.
    @inline(__always)
    private static func rowBlocks(vectors: Int, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                  b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        var i = 0
        while i < m {
            block(vectors: vectors, rows: min(4, m - i), k: k, a: a + i * lda, lda: lda, b: b, ldb: ldb,
                  c: c + i * ldc, ldc: ldc)
            i += 4
        }
    }

    /// A `rows` (1–4) × `8 · vectors` block of C. Fewer than four rows read the last row
    /// again and store only the real ones.
    @inline(__always)
    private static func block(vectors: Int, rows: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                              b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let a0 = a, a1 = a + min(1, rows - 1) * lda, a2 = a + min(2, rows - 1) * lda, a3 = a + min(3, rows - 1) * lda
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        var row = b
        for p in 0..<k {
            let b0 = Winograd.load8(row)
            let b1 = vectors > 1 ? Winograd.load8(row + 8) : SIMD8<Float>()
            let u0 = SIMD8(repeating: a0[p]), u1 = SIMD8(repeating: a1[p])
            let u2 = SIMD8(repeating: a2[p]), u3 = SIMD8(repeating: a3[p])
            c00.addProduct(u0, b0); c10.addProduct(u1, b0); c20.addProduct(u2, b0); c30.addProduct(u3, b0)
            if vectors > 1 {
                c01.addProduct(u0, b1); c11.addProduct(u1, b1); c21.addProduct(u2, b1); c31.addProduct(u3, b1)
            }
            row += ldb
        }
        @inline(__always) func put(_ r: Int, _ v0: SIMD8<Float>, _ v1: SIMD8<Float>) {
            guard r < rows else { return }
            let out = c + r * ldc
            Winograd.store(v0, out)
            if vectors > 1 { Winograd.store(v1, out + 8) }
        }
        put(0, c00, c01); put(1, c10, c11); put(2, c20, c21); put(3, c30, c31)
    }
}
