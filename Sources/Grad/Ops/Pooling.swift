// Max pooling 2×2 with stride 2 (VGG's pooling layers).
internal import GradKernels

extension Tensor {
    /// `[N, C, H, W]` → `[N, C, H/2, W/2]` (floor), the maximum of each 2×2 block.
    public func maxPooled2x2() -> Tensor {
        precondition(rank == 4, "maxPool expects [N, C, H, W], got \(shape)")
        let (h, w) = (shape[2], shape[3]), planes = shape[0] * shape[1]
        let outShape = [shape[0], shape[1], h / 2, w / 2]
        let index = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(1, Shapes.count(outShape)))
        let y = Tensor.computed(outShape) { out in
            withUnsafePointer { Pooling.maxPool2x2Forward(x: $0, y: out, index: index.baseAddress!, planes: planes, height: h, width: w) }
        }
        let saved = IndexBuffer(index)
        let inShape = shape
        return y.recorded("maxPool2x2", inputs: [self]) { g in
            [Tensor.computed(inShape) { dx in
                g.withUnsafePointer { Pooling.maxPool2x2Backward(dy: $0, index: saved.buffer.baseAddress!, dx: dx, planes: planes, height: h, width: w) }
            }]
        }
    }
}

/// Owns the argmax indices a pooling pullback needs, freed with the pullback.
final class IndexBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Int32>
    init(_ buffer: UnsafeMutableBufferPointer<Int32>) { self.buffer = buffer }
    deinit { buffer.deallocate() }
}
