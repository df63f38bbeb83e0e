// Deterministic training batches: which image, where to crop and how to augment depend
// only on (seed, epoch, position in epoch), so a resumed run sees exactly the batches an
// uninterrupted run would, without saving any sampler state beyond its position.
import Grad

/// A batch of aligned crops, NCHW.
public struct SRBatch: @unchecked Sendable {
    public let hr: Tensor   // [N, 3, size, size]
    public let lr: Tensor   // [N, 3, size/scale, size/scale]
    public let epoch: Int
    /// Index of this batch within its epoch.
    public let step: Int
}

public struct TrainingBatches: Sendable {
    public let dataset: SRDataset
    public let batchSize: Int
    public let cropSize: Int
    public let seed: UInt64
    public let augment: Bool
    /// At most this many batches make an epoch (nil: one pass over the data).
    public let epochLimit: Int?

    public init(dataset: SRDataset, batchSize: Int, cropSize: Int, seed: UInt64, augment: Bool = true, epochLimit: Int? = nil) throws {
        guard batchSize >= 1 else { throw DataError("batch size must be at least 1, got \(batchSize)") }
        guard cropSize >= dataset.scale, cropSize % dataset.scale == 0 else {
            throw DataError("crop size \(cropSize) must be a positive multiple of the scale \(dataset.scale)")
        }
        guard dataset.count >= batchSize else {
            throw DataError("\(dataset.count) training images are fewer than one batch of \(batchSize)")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.cropSize = cropSize
        self.seed = seed
        self.augment = augment
        self.epochLimit = epochLimit
    }

    /// Full batches per epoch (the incomplete last batch is dropped, so every step has
    /// the same batch size), at most `epochLimit`.
    public var batchesPerEpoch: Int { min(dataset.count / batchSize, epochLimit ?? .max) }

    /// A generator for a tuple of indices, independent of every other tuple.
    static func generator(_ seed: UInt64, _ parts: UInt64...) -> RandomGenerator {
        var h = seed
        for p in parts { var g = RandomGenerator(seed: h ^ (p &* 0x9E37_79B9_7F4A_7C15)); h = g.next() }
        return RandomGenerator(seed: h)
    }

    /// The image order of `epoch` (a seeded Fisher–Yates shuffle).
    public func order(epoch: Int) -> [Int] {
        var rng = Self.generator(seed, 1, UInt64(epoch))
        var order = Array(0..<dataset.count)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.nextInt(below: i + 1)) }
        return order
    }

    /// Batch `step` of `epoch`.
    public func batch(epoch: Int, step: Int) throws -> SRBatch {
        precondition(step >= 0 && step < batchesPerEpoch, "step \(step) outside 0..<\(batchesPerEpoch)")
        let order = order(epoch: epoch)
        var hrs: [Tensor] = [], lrs: [Tensor] = []
        for k in 0..<batchSize {
            let position = step * batchSize + k
            let index = order[position]
            var rng = Self.generator(seed, 2, UInt64(epoch), UInt64(position))
            let hr = try dataset.hr(index)
            let (h, w) = (hr.shape[1], hr.shape[2])
            guard h >= cropSize, w >= cropSize else {
                throw DataError("\(dataset.hrPaths[index]): \(w)×\(h) is smaller than the \(cropSize)×\(cropSize) crop")
            }
            let s = dataset.scale
            let y = rng.nextInt(below: (h - cropSize) / s + 1) * s
            let x = rng.nextInt(below: (w - cropSize) / s + 1) * s
            var (hrCrop, lrCrop) = try dataset.crop(index, y: y, x: x, size: cropSize)
            if augment {
                if rng.uniformFloat() < 0.5 {
                    hrCrop = Augmentation.horizontalFlip(hrCrop); lrCrop = Augmentation.horizontalFlip(lrCrop)
                }
                if rng.uniformFloat() < 0.5 {
                    hrCrop = Augmentation.rotate90(hrCrop); lrCrop = Augmentation.rotate90(lrCrop)
                }
            }
            hrs.append(hrCrop.reshaped([1] + hrCrop.shape))
            lrs.append(lrCrop.reshaped([1] + lrCrop.shape))
        }
        return SRBatch(hr: Tensor.concatenate(hrs, axis: 0), lr: Tensor.concatenate(lrs, axis: 0), epoch: epoch, step: step)
    }
}
