// Deterministic validation data: the centre crop of every image (or the whole image).
import Foundation
import Grad

public extension SRDataset {
    /// Centre crops of `size` (a multiple of the scale; nil for whole images) of every
    /// image, in folder order, each as `[1, 3, H, W]` HR and LR tensors.
    func validationPairs(cropSize size: Int?) throws -> [(name: String, hr: Tensor, lr: Tensor)] {
        try (0..<count).map { i in
            let name = (hrPaths[i] as NSString).lastPathComponent
            guard let size else {
                let hr = try hr(i), lr = try lr(i)
                return (name, hr.reshaped([1] + hr.shape), lr.reshaped([1] + lr.shape))
            }
            let full = try hr(i)
            guard full.shape[1] >= size, full.shape[2] >= size else {
                throw DataError("\(hrPaths[i]): \(full.shape[2])×\(full.shape[1]) is smaller than the \(size)×\(size) validation crop")
            }
            let y = (full.shape[1] - size) / 2 / scale * scale, x = (full.shape[2] - size) / 2 / scale * scale
            let (hr, lr) = try crop(i, y: y, x: x, size: size)
            return (name, hr.reshaped([1] + hr.shape), lr.reshaped([1] + lr.shape))
        }
    }
}
