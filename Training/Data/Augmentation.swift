// Geometric augmentations of `[C, H, W]` images: horizontal flip and 90° rotation.
import Grad

public enum Augmentation {
    /// Mirrors left–right.
    public static func horizontalFlip(_ x: Tensor) -> Tensor {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        return x.withUnsafePointer { p in
            Tensor(shape: x.shape) { out in
                for ch in 0..<c { for r in 0..<h {
                    let row = (ch * h + r) * w
                    for col in 0..<w { out[row + col] = p[row + w - 1 - col] }
                } }
            }
        }
    }

    /// Rotates 90° counter-clockwise (numpy's `rot90` on the H, W axes): out[i][j] = in[j][W−1−i].
    public static func rotate90(_ x: Tensor) -> Tensor {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        return x.withUnsafePointer { p in
            Tensor(shape: [c, w, h]) { out in
                for ch in 0..<c { for i in 0..<w { for j in 0..<h {
                    out[(ch * w + i) * h + j] = p[(ch * h + j) * w + (w - 1 - i)]
                } } }
            }
        }
    }
}
