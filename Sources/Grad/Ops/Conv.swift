// 2-D convolution (cross-correlation, as in PyTorch) with zero padding and a square
// stride. Forward and backward are `Convolution` kernel calls (im2col + sgemm).
internal import GradKernels

extension Tensor {
    /// x `[N, Cin, H, W]` ⋆ weight `[Cout, Cin, kh, kw]` + bias `[Cout]` → `[N, Cout, Ho, Wo]`,
    /// Ho = (H + 2·padding − kh)/stride + 1.
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
        precondition(x.rank == 4 && weight.rank == 4, "conv2d expects [N,C,H,W] input and [O,I,kh,kw] weight, got \(x.shape), \(weight.shape)")
        precondition(x.shape[1] == weight.shape[1], "conv2d: input has \(x.shape[1]) channels, weight expects \(weight.shape[1])")
        if let bias { precondition(bias.shape == [weight.shape[0]], "conv2d: bias shape \(bias.shape) for \(weight.shape[0]) output channels") }
        let g = ConvGeometry(batch: x.shape[0], inChannels: x.shape[1], height: x.shape[2], width: x.shape[3],
                             outChannels: weight.shape[0], kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
                             stride: stride, padding: padding)
        precondition(g.outHeight > 0 && g.outWidth > 0, "conv2d: kernel \(weight.shape[2])×\(weight.shape[3]) larger than padded input \(x.shape)")
        let products = 2 * g.batch * g.outChannels * g.outHeight * g.outWidth * g.inChannels * g.kernelHeight * g.kernelWidth
        NominalFLOPs.add(products)
        let y = Tensor.computed([g.batch, g.outChannels, g.outHeight, g.outWidth]) { out in
            x.withUnsafePointer { px in weight.withUnsafePointer { pw in
                if let bias {
                    bias.withUnsafePointer { Convolution.forward(x: px, weight: pw, bias: $0, y: out, g) }
                } else {
                    Convolution.forward(x: px, weight: pw, bias: nil, y: out, g)
                }
            } }
        }
        let xv = x.detached(), wv = weight.detached()
        let needX = x.isTracked, needW = weight.isTracked, needB = bias?.isTracked ?? false
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        let wantBias = bias != nil
        return y.recorded("conv2d", inputs: inputs) { dy in
            NominalFLOPs.add(products * ((needX ? 1 : 0) + (needW ? 1 : 0)))
            // The kernel overwrites every element of each requested gradient.
            var dx: Tensor? = needX ? Tensor.uninitialized(xv.shape) : nil
            var dw: Tensor? = needW ? Tensor.uninitialized(wv.shape) : nil
            var db: Tensor? = needB ? Tensor.uninitialized([g.outChannels]) : nil
            xv.withUnsafePointer { px in wv.withUnsafePointer { pw in dy.withUnsafePointer { pdy in
                withOptionalMutablePointer(&dx) { pdx in withOptionalMutablePointer(&dw) { pdw in
                    withOptionalMutablePointer(&db) { pdb in
                        Convolution.backward(x: px, weight: pw, dy: pdy, g, dx: pdx, dw: pdw, db: pdb)
                    } } }
            } } }
            return wantBias ? [dx, dw, db] : [dx, dw]
        }
    }
}

/// Calls `body` with the tensor's mutable buffer, or nil when there is no tensor.
func withOptionalMutablePointer<R>(_ t: inout Tensor?, _ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
    guard var v = t else { return body(nil) }
    let r = v.withUnsafeMutablePointer { body($0) }
    t = v
    return r
}
