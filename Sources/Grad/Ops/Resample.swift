// Resizing of `[N, C, H, W]` maps with PyTorch `interpolate` semantics
// (align_corners = false, no antialias; docs/design.md §8). Unlike MATLAB's imresize (the data
// pipeline's degradation), these never low-pass filter when shrinking.
internal import GradKernels

/// Interpolation of `Tensor.resized`, with PyTorch `interpolate`'s semantics.
public enum ResizeMode: Sendable, Equatable {
    /// Nearest neighbour (PyTorch's legacy `nearest`: source index ⌊dst · in/out⌋).
    case nearest
    /// Bilinear.
    case bilinear
    /// Bicubic (Keys kernel, a = −0.75, taps clamped to the border).
    case bicubic

    var kernelMode: ResampleMode {
        switch self {
        case .nearest: return .nearest
        case .bilinear: return .bilinear
        case .bicubic: return .bicubic
        }
    }
}

extension Tensor {
    /// Resized to `height × width` with `mode`.
    public func resized(height: Int, width: Int, mode: ResizeMode) -> Tensor {
        precondition(rank == 4, "resize expects [N, C, H, W], got \(shape)")
        precondition(height > 0 && width > 0, "resize to \(height)×\(width)")
        if height == shape[2] && width == shape[3] { return self }
        let (h, w) = (shape[2], shape[3]), planes = shape[0] * shape[1]
        let y = Tensor.computed([shape[0], shape[1], height, width]) { out in
            withUnsafePointer { Resample.forward(x: $0, y: out, planes: planes, height: h, width: w,
                                                 outHeight: height, outWidth: width, mode: mode.kernelMode) }
        }
        let inShape = shape
        return y.recorded("resize", inputs: [self]) { g in
            [Tensor.computed(inShape) { dx in
                g.withUnsafePointer { Resample.backward(dy: $0, dx: dx, planes: planes, height: h, width: w,
                                                        outHeight: height, outWidth: width, mode: mode.kernelMode) }
            }]
        }
    }

    /// Nearest-neighbour upsampling by 2 (each pixel becomes a 2×2 block).
    public func upsampledNearest2x() -> Tensor {
        precondition(rank == 4, "upsample expects [N, C, H, W], got \(shape)")
        return resized(height: shape[2] * 2, width: shape[3] * 2, mode: .nearest)
    }
}
