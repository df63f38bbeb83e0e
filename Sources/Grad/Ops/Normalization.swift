// Group normalization (Wu & He 2018) with PyTorch semantics: per (sample, group) mean
// and biased variance, ε inside the square root, per-channel affine γ, β.
internal import GradKernels

extension Tensor {
    /// x `[N, C, …]` normalized in `groups` groups of C/groups channels, then `γ·x̂ + β`
    /// with gamma, beta `[C]`.
    public static func groupNorm(_ x: Tensor, groups: Int, gamma: Tensor, beta: Tensor, epsilon: Float = 1e-5) -> Tensor {
        normalized(x, groups: groups, gamma: gamma, beta: beta, epsilon: epsilon, thenSiLU: false)
    }

    /// `groupNorm(x, …).silu()` as one op: one pass over the output instead of three,
    /// and nothing kept for the backward but x and the per-group statistics (z and σ(z)
    /// are recomputed there). The U-Net applies exactly this pair before each convolution.
    public static func groupNormSiLU(_ x: Tensor, groups: Int, gamma: Tensor, beta: Tensor, epsilon: Float = 1e-5) -> Tensor {
        normalized(x, groups: groups, gamma: gamma, beta: beta, epsilon: epsilon, thenSiLU: true)
    }

    private static func normalized(_ x: Tensor, groups: Int, gamma: Tensor, beta: Tensor, epsilon: Float,
                                   thenSiLU silu: Bool) -> Tensor {
        let name: StaticString = silu ? "groupNormSiLU" : "groupNorm"
        precondition(x.rank >= 2, "\(name) expects [N, C, …], got \(x.shape)")
        let n = x.shape[0], c = x.shape[1], plane = x.count / max(n * c, 1)
        precondition(c % groups == 0, "\(name): \(c) channels not divisible into \(groups) groups")
        precondition(gamma.shape == [c] && beta.shape == [c], "\(name): γ \(gamma.shape), β \(beta.shape) for \(c) channels")
        let mean = Tensor.uninitialized([n * groups]), rstd = Tensor.uninitialized([n * groups])
        let y = Tensor.computed(x.shape) { out in
            x.withUnsafePointer { px in gamma.withUnsafePointer { pg in beta.withUnsafePointer { pb in
                Normalization.groupNormForward(x: px, gamma: pg, beta: pb, y: out,
                                               mean: mean.storage.pointer, rstd: rstd.storage.pointer,
                                               batch: n, channels: c, plane: plane, groups: groups,
                                               epsilon: epsilon, silu: silu)
            } } }
        }
        let xv = x.detached(), gv = gamma.detached(), bv = beta.detached()
        return y.recorded(name, inputs: [x, gamma, beta]) { dy in
            let dx = Tensor.uninitialized(xv.shape), dg = Tensor.uninitialized([c]), db = Tensor.uninitialized([c])
            xv.withUnsafePointer { px in gv.withUnsafePointer { pg in bv.withUnsafePointer { pb in
                dy.withUnsafePointer { pdy in
                    if silu {
                        Normalization.groupNormSiLUBackward(
                            x: px, gamma: pg, beta: pb, mean: mean.storage.pointer, rstd: rstd.storage.pointer,
                            dy: pdy, dx: dx.storage.pointer, dgamma: dg.storage.pointer, dbeta: db.storage.pointer,
                            batch: n, channels: c, plane: plane, groups: groups)
                    } else {
                        Normalization.groupNormBackward(
                            x: px, gamma: pg, mean: mean.storage.pointer, rstd: rstd.storage.pointer,
                            dy: pdy, dx: dx.storage.pointer, dgamma: dg.storage.pointer, dbeta: db.storage.pointer,
                            batch: n, channels: c, plane: plane, groups: groups)
                    }
                } } } }
            return [dx, dg, db]
        }
    }
}
