// Paired super-resolution data: HR images from a folder, LR images either made on the
// fly with MATLAB bicubic (the standard degradation) or read from a paired folder laid
// out like DIV2K (`DIV2K_valid_LR_bicubic/X4/0801x4.png` beside `0801.png`).
import Foundation
import Grad
import Imaging

public struct SRDataset: Sendable {
    public let hrPaths: [String]
    /// Paired LR files (same order as `hrPaths`), or nil for on-the-fly degradation.
    public let lrPaths: [String]?
    public let scale: Int
    private let cache: ImageCache

    /// - Parameters:
    ///   - hrFolder: folder of HR PNGs (any names; sorted).
    ///   - lrFolder: optional folder of LR PNGs named `<stem>.png` or `<stem>x<scale>.png`.
    ///   - cacheLimitBytes: decoded images are kept in memory while their total stays
    ///     below this (the demo set fits; DIV2K does not and is decoded per use).
    public init(hrFolder: String, lrFolder: String? = nil, scale: Int, cacheLimitBytes: Int = 1 << 30) throws {
        try self.init(hrFolders: [hrFolder], lrFolder: lrFolder, scale: scale, cacheLimitBytes: cacheLimitBytes)
    }

    /// Several HR folders as one set (DF2K = DIV2K_train_HR + Flickr2K_HR), in folder order.
    public init(hrFolders: [String], lrFolder: String? = nil, scale: Int, cacheLimitBytes: Int = 1 << 30) throws {
        guard scale >= 1 else { throw DataError("scale must be at least 1, got \(scale)") }
        guard lrFolder == nil || hrFolders.count == 1 else { throw DataError("paired LR images need exactly one HR folder") }
        hrPaths = try hrFolders.flatMap { try ImageFolder.list($0) }
        self.scale = scale
        if let lrFolder {
            _ = try ImageFolder.list(lrFolder)
            lrPaths = try hrPaths.map { hr in
                let stem = DIV2KNames.stem(hr), lrName = DIV2KNames.lowResolutionName(stem: stem, scale: scale)
                let candidates = [lrName, "\(stem).png"].map { (lrFolder as NSString).appendingPathComponent($0) }
                guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                    throw DataError("\(lrFolder): no LR image for \((hr as NSString).lastPathComponent) (looked for \(lrName) and \(stem).png)")
                }
                return found
            }
        } else {
            lrPaths = nil
        }
        cache = ImageCache(limitBytes: cacheLimitBytes)
    }

    public var count: Int { hrPaths.count }

    /// The HR image `index`, `[3, H, W]`, cropped to a multiple of `scale`.
    public func hr(_ index: Int) throws -> Tensor {
        let image = try cache.image(hrPaths[index])
        let h = image.shape[1] / scale * scale, w = image.shape[2] / scale * scale
        guard h > 0, w > 0 else { throw DataError("\(hrPaths[index]): \(image.shape[2])×\(image.shape[1]) is smaller than the scale \(scale)") }
        return image.slice(start: [0, 0, 0], size: [3, h, w])
    }

    /// The whole LR image `index` (read from the paired folder, or degraded from the HR).
    public func lr(_ index: Int) throws -> Tensor {
        let hr = try hr(index)
        guard let lrPaths else { return MatlabResize.resize(hr, scale: 1 / Double(scale)) }
        let lr = try cache.image(lrPaths[index])
        guard lr.shape[1] == hr.shape[1] / scale, lr.shape[2] == hr.shape[2] / scale else {
            throw DataError("\(lrPaths[index]): LR is \(lr.shape[2])×\(lr.shape[1]) but its HR \(hrPaths[index]) is \(hr.shape[2])×\(hr.shape[1]) (expected \(hr.shape[2] / scale)×\(hr.shape[1] / scale) at ×\(scale))")
        }
        return lr
    }

    /// An aligned HR/LR crop: HR `[3, size, size]` at (y, x) (multiples of `scale`) and
    /// its LR `[3, size/scale, size/scale]`. On-the-fly LR is the MATLAB-bicubic
    /// downscale of the HR crop itself.
    public func crop(_ index: Int, y: Int, x: Int, size: Int) throws -> (hr: Tensor, lr: Tensor) {
        let hr = try hr(index)
        let patch = hr.slice(start: [0, y, x], size: [3, size, size])
        guard lrPaths != nil else { return (patch, MatlabResize.resize(patch, scale: 1 / Double(scale))) }
        let lr = try self.lr(index)
        let s = scale
        return (patch, lr.slice(start: [0, y / s, x / s], size: [3, size / s, size / s]))
    }
}

/// Decoded images by path, kept while the total stays under a limit. Thread-safe.
final class ImageCache: @unchecked Sendable {
    private let limitBytes: Int
    private var images: [String: Tensor] = [:]
    private var bytes = 0
    private let lock = NSLock()

    init(limitBytes: Int) { self.limitBytes = limitBytes }

    func image(_ path: String) throws -> Tensor {
        lock.lock()
        if let hit = images[path] { lock.unlock(); return hit }
        lock.unlock()
        let image = try PNG.read(path)
        lock.lock()
        defer { lock.unlock() }
        if bytes + image.count * 4 <= limitBytes {
            images[path] = image
            bytes += image.count * 4
        }
        return image
    }
}
