// PNG files ↔ images as tensors `[3, H, W]` in [0, 1] (RGB, fp32), through libpng.
//
// Reading accepts every PNG kind: gray, gray+alpha, RGB, RGBA, palette, 1/2/4/8/16-bit,
// interlaced. Gray is replicated to RGB; alpha is dropped (colour values are kept as
// stored, the same as PIL's `convert("RGB")`); 16-bit samples keep their precision
// (v / 65535). Writing quantizes to 8 bit (round(255·clamp(x))) or, on request, 16 bit.
import AtomicFile
import Foundation
import Grad
import PNGCodec
import Synchronization

public enum PNG {
    /// The libpng this program runs with.
    public static var libraryVersion: String { String(cString: ecdp_png_library_version()) }

    /// Who hears about converted inputs, and which kinds were already reported.
    private static let notices = Mutex<(handler: (@Sendable (String) -> Void)?, reported: Set<String>)>((nil, []))

    /// `handler` receives one line the first time an input of each kind is converted on
    /// reading (an alpha channel dropped, 16-bit samples); the command line prints it, so a
    /// user learns once, not per image, that the file was not used as it is.
    public static func setConversionNotice(_ handler: @escaping @Sendable (String) -> Void) {
        notices.withLock { $0.handler = handler }
    }

    /// Forgets which kinds were reported (tests).
    static func resetConversionNotices() { notices.withLock { $0.reported = [] } }

    static func noteConversions(_ info: SourceInfo, path: String) {
        var kinds: [(String, String)] = []
        // PNG colour types 4 (gray + alpha) and 6 (RGBA) carry alpha.
        if info.colorType == 4 || info.colorType == 6 {
            kinds.append(("alpha", "\(path) has an alpha channel; it was dropped (colours kept as stored). Other such inputs are not reported."))
        }
        if info.bitDepth == 16 {
            kinds.append(("16-bit", "\(path) is 16-bit; it is read at full precision, but metrics quantize to 8 bit and outputs are 8-bit PNGs. Other such inputs are not reported."))
        }
        for (kind, message) in kinds {
            let handler: (@Sendable (String) -> Void)? = notices.withLock { state in
                guard state.handler != nil, !state.reported.contains(kind) else { return nil }
                state.reported.insert(kind)
                return state.handler
            }
            handler?(message)
        }
    }
    /// Images larger than this many pixels are refused before memory is allocated
    /// (about 0.8 GB of fp32 at the default).
    public static let defaultPixelLimit = 1 << 26

    /// What the file held before conversion to RGB.
    public struct SourceInfo: Sendable, Equatable {
        public var width: Int, height: Int
        public var bitDepth: Int
        public var colorType: Int
        public var interlaced: Bool
    }

    /// Reads `path` as a `[3, H, W]` tensor in [0, 1].
    public static func read(_ path: String, pixelLimit: Int = defaultPixelLimit) throws -> Tensor {
        try readWithInfo(path, pixelLimit: pixelLimit).image
    }

    /// The (height, width) in the header, without decoding the pixels (for planning crops
    /// over large folders). Reading the file later still checks the whole of it.
    public static func size(_ path: String) throws -> (height: Int, width: Int) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ImageError(path: path, reason: "cannot open") }
        defer { try? handle.close() }
        let header = [UInt8]((try? handle.read(upToCount: 24)) ?? Data())
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard header.count == 24, Array(header[0..<8]) == signature, Array(header[12..<16]) == Array("IHDR".utf8) else {
            throw ImageError(path: path, reason: "not a PNG file (no PNG signature and IHDR header)")
        }
        func big(_ i: Int) -> Int { header[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) } }
        let (w, h) = (big(16), big(20))
        guard w > 0, h > 0 else { throw ImageError(path: path, reason: "zero width or height in the header") }
        return (h, w)
    }

    /// Reads `path`, also returning what the file held.
    public static func readWithInfo(_ path: String, pixelLimit: Int = defaultPixelLimit) throws -> (image: Tensor, info: SourceInfo) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ImageError(path: path, reason: "is a directory, not a PNG file")
        }
        var decoded = ecdp_png_image()
        var message = [CChar](repeating: 0, count: 512)
        let status = ecdp_png_read(path, pixelLimit, &decoded, &message, message.count)
        guard status == 0 else {
            throw ImageError(path: path, reason: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { ecdp_png_free(&decoded) }
        let w = Int(decoded.width), h = Int(decoded.height), plane = w * h
        let info = SourceInfo(width: w, height: h, bitDepth: Int(decoded.source_bit_depth),
                              colorType: Int(decoded.source_color_type), interlaced: decoded.source_interlaced != 0)
        noteConversions(info, path: path)
        let image = Tensor(shape: [3, h, w]) { out in
            // Interleaved HWC samples → planar CHW floats.
            if decoded.bit_depth == 16 {
                let src = decoded.pixels.assumingMemoryBound(to: UInt16.self)
                for i in 0..<plane {
                    for c in 0..<3 { out[c * plane + i] = Float(src[3 * i + c]) / 65535 }
                }
            } else {
                let src = decoded.pixels.assumingMemoryBound(to: UInt8.self)
                for i in 0..<plane {
                    for c in 0..<3 { out[c * plane + i] = Float(src[3 * i + c]) / 255 }
                }
            }
        }
        return (image, info)
    }

    /// Writes a `[3, H, W]` (or `[1, 3, H, W]`) tensor as an RGB PNG, atomically: the
    /// file appears complete or not at all.
    public static func write(_ image: Tensor, to path: String, bitDepth: Int = 8) throws {
        let shape = image.rank == 4 && image.shape[0] == 1 ? Array(image.shape.dropFirst()) : image.shape
        guard shape.count == 3, shape[0] == 3 || shape[0] == 1 else {
            throw ImageError(path: path, reason: "cannot write a tensor of shape \(image.shape) as an image (need [3, H, W])")
        }
        guard bitDepth == 8 || bitDepth == 16 else {
            throw ImageError(path: path, reason: "bit depth must be 8 or 16, got \(bitDepth)")
        }
        let channels = shape[0], h = shape[1], w = shape[2], plane = h * w
        let maxValue = Float(bitDepth == 16 ? 65535 : 255)
        try AtomicFile.write(to: path, makeError: { ImageError(path: path, reason: $0) }) { temporary in
            var message = [CChar](repeating: 0, count: 512)
            let status: Int32 = image.withUnsafePointer { src in
                func sample(_ c: Int, _ i: Int) -> Float {
                    let v = src[(channels == 1 ? 0 : c) * plane + i]
                    return (min(max(v.isNaN ? 0 : v, 0), 1) * maxValue).rounded()
                }
                if bitDepth == 16 {
                    var buffer = [UInt16](repeating: 0, count: plane * 3)
                    for i in 0..<plane { for c in 0..<3 { buffer[3 * i + c] = UInt16(sample(c, i)) } }
                    return ecdp_png_write(temporary, Int32(w), Int32(h), 16, buffer, &message, message.count)
                } else {
                    var buffer = [UInt8](repeating: 0, count: plane * 3)
                    for i in 0..<plane { for c in 0..<3 { buffer[3 * i + c] = UInt8(sample(c, i)) } }
                    return ecdp_png_write(temporary, Int32(w), Int32(h), 8, buffer, &message, message.count)
                }
            }
            guard status == 0 else {
                throw ImageError(path: path, reason: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
        }
    }
}
