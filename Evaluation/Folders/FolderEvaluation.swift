// Evaluating a folder of super-resolved images: pairing each output with its reference (same
// file name) and optionally its LR input (same name, or DIV2K's `<stem>x<scale>.png`), the
// per-image metrics under one protocol, and their mean.
import Foundation
import Imaging

/// One output image with the files it is compared with.
public struct EvaluationPair: Sendable, Equatable {
    public var name: String
    public var output: String
    public var reference: String
    public var lr: String?
}

/// A missing or mismatched file or folder, named.
public struct EvaluationInputError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public enum FolderEvaluation {
    /// The pairs for two files, or for two folders (every PNG in `output`, sorted by name).
    public static func pairs(output: String, reference: String, lr: String? = nil, scale: Int) throws -> [EvaluationPair] {
        let fm = FileManager.default
        func isDirectory(_ path: String) throws -> Bool {
            var dir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &dir) else { throw EvaluationInputError("\(path): no such file or folder") }
            return dir.boolValue
        }
        let outIsDir = try isDirectory(output), refIsDir = try isDirectory(reference)
        if let lr { _ = try isDirectory(lr) }
        guard outIsDir == refIsDir else { throw EvaluationInputError("\(output) and \(reference) must both be files or both be folders") }
        guard outIsDir else {
            return [EvaluationPair(name: (output as NSString).lastPathComponent, output: output, reference: reference, lr: lr)]
        }
        let names = try fm.contentsOfDirectory(atPath: output).filter { $0.lowercased().hasSuffix(".png") }.sorted()
        guard !names.isEmpty else { throw EvaluationInputError("\(output): no PNG files") }
        return try names.map { name in
            let ref = (reference as NSString).appendingPathComponent(name)
            guard fm.fileExists(atPath: ref) else { throw EvaluationInputError("\(ref): no reference for output \(name)") }
            var lrPath: String?
            if let lr {
                let candidates = [name, DIV2KNames.lowResolutionName(stem: DIV2KNames.stem(name), scale: scale)]
                    .map { (lr as NSString).appendingPathComponent($0) }
                guard let found = candidates.first(where: fm.fileExists(atPath:)) else {
                    throw EvaluationInputError("no LR image for \(name) in \(lr) (tried \(candidates.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")))")
                }
                lrPath = found
            }
            return EvaluationPair(name: name, output: (output as NSString).appendingPathComponent(name), reference: ref, lr: lrPath)
        }
    }

    /// The metrics of one pair under `metricProtocol` (and LPIPS with `lpips`).
    public static func evaluate(_ pair: EvaluationPair, under metricProtocol: MetricProtocol, scale: Int,
                                lpips: LPIPS? = nil) throws -> ImageMetrics {
        do {
            return try metricProtocol.evaluate(output: try PNG.read(pair.output), reference: try PNG.read(pair.reference),
                                               lr: try pair.lr.map { try PNG.read($0) }, scale: scale, lpips: lpips)
        } catch let e as MetricError {
            switch e {  // name the image the problem belongs to
            case .sizeMismatch(let s): throw MetricError.sizeMismatch("\(pair.output): \(s)")
            case .tooSmall(let s): throw MetricError.tooSmall("\(pair.output): \(s)")
            }
        }
    }

    /// The mean over images (LR-PSNR and LPIPS only when every image has one).
    public static func mean(_ rows: [ImageMetrics], protocolName: String) -> ImageMetrics {
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
        func meanIfAll(_ values: [Double?]) -> Double? {
            let present = values.compactMap { $0 }
            return present.count == values.count ? mean(present) : nil
        }
        return ImageMetrics(protocolName: protocolName, psnr: mean(rows.map(\.psnr)), ssim: mean(rows.map(\.ssim)),
                            lrPSNR: meanIfAll(rows.map(\.lrPSNR)), lpips: meanIfAll(rows.map(\.lpips)),
                            lpipsNetwork: rows.first?.lpipsNetwork)
    }
}
