// Max pooling (VGG's 2×2, AlexNet's and SqueezeNet's 3×3 stride 2): forward saves the
// argmax of each window, the pullback scatters the gradient there.
internal import GradKernels

extension Tensor {
    /// `[N, C, H, W]` → `[N, C, Ho, Wo]`: the maximum of each `kernel × kernel` window,
    /// windows `stride` apart, no padding; output size as PyTorch's `max_pool2d` with
    /// `ceil_mode` (windows clipped at the border) or without.
    public func maxPooled(kernel: Int, stride: Int, ceilMode: Bool = false) -> Tensor {
        precondition(rank == 4, "maxPool expects [N, C, H, W], got \(shape)")
        precondition(kernel >= 1 && stride >= 1, "maxPool kernel \(kernel), stride \(stride)")
        let (h, w) = (shape[2], shape[3]), planes = shape[0] * shape[1]
        let ho = Pooling.outputLength(h, kernel: kernel, stride: stride, ceilMode: ceilMode)
        let wo = Pooling.outputLength(w, kernel: kernel, stride: stride, ceilMode: ceilMode)
        let outShape = [shape[0], shape[1], ho, wo]
        let index = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(1, Shapes.count(outShape)))
        let y = Tensor.computed(outShape) { out in
            withUnsafePointer {
                Pooling.maxPoolForward(x: $0, y: out, index: index.baseAddress!, planes: planes, height: h, width: w,
                                       kernel: kernel, stride: stride, outHeight: ho, outWidth: wo)
            }
        }
        let saved = IndexBuffer(index)
        let inShape = shape
        return y.recorded("maxPool", inputs: [self]) { g in
            [Tensor.computed(inShape) { dx in
                g.withUnsafePointer {
                    Pooling.maxPoolBackward(dy: $0, index: saved.buffer.baseAddress!, dx: dx, planes: planes, height: h, width: w,
                                            outHeight: ho, outWidth: wo)
                }
            }]
        }
    }

    /// 2×2 windows, stride 2 (VGG): `[N, C, H, W]` → `[N, C, H/2, W/2]` (floor).
    public func maxPooled2x2() -> Tensor { maxPooled(kernel: 2, stride: 2) }
}

/// Owns the argmax indices a pooling pullback needs, freed with the pullback.
final class IndexBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Int32>
    init(_ buffer: UnsafeMutableBufferPointer<Int32>) { self.buffer = buffer }
    deinit { buffer.deallocate() }
}
