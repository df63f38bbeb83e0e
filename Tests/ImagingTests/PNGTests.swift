// Every PNG kind decodes to the values pypng wrote; every bad input fails with a
// one-line error naming the file and the problem; writing round-trips.
import Foundation
import Grad
@testable import Imaging
import Synchronization
import TestSupport
import Testing

struct PNGKind: Decodable {
    let file: String
    let height: Int
    let width: Int
    let rgb: [Double]
}

@Suite("PNG")
struct PNGTests {
    @Test func everyKindDecodesExactly() throws {
        let kinds = try FixturePaths.decode([String: PNGKind].self, from: "png_kinds.json")
        #expect(kinds.count >= 19)
        for (name, kind) in kinds.sorted(by: { $0.key < $1.key }) {
            let image = try PNG.read(FixturePaths.fixtures.appendingPathComponent(kind.file).path)
            #expect(image.shape == [3, kind.height, kind.width], "\(name) shape")
            // Fixture values are HWC; ours CHW. Exact up to float rounding of v/max.
            let plane = kind.height * kind.width
            let values = image.scalars
            var worst = 0.0
            for i in 0..<plane { for c in 0..<3 { worst = max(worst, abs(Double(values[c * plane + i]) - kind.rgb[3 * i + c])) } }
            #expect(worst < 1e-6, "\(name): max error \(worst)")
        }
    }

    @Test func sourceInfoDescribesTheFile() throws {
        let (_, info) = try PNG.readWithInfo(FixturePaths.fixtures.appendingPathComponent("png/gray16_interlaced.png").path)
        #expect(info.bitDepth == 16 && info.interlaced && info.colorType == 0)
        let (_, palette) = try PNG.readWithInfo(FixturePaths.fixtures.appendingPathComponent("png/palette2.png").path)
        #expect(palette.bitDepth == 2 && palette.colorType == 3)
    }

    @Test(arguments: [
        ("bad_empty.png", "empty file"),
        ("bad_not_a_png.png", "not a PNG"),
        ("bad_truncated.png", "truncated"),
        ("bad_bad_crc.png", "CRC"),
        ("bad_zero_width.png", "IHDR"),
        ("bad_huge.png", "limit"),
        ("missing.png", "No such file"),
    ])
    func badInputsFailWithANamedReason(file: String, expected: String) {
        let path = FixturePaths.fixtures.appendingPathComponent("png/\(file)").path
        do {
            _ = try PNG.read(path, pixelLimit: 1 << 24)
            Issue.record("\(file) was accepted")
        } catch let error as ImageError {
            #expect(error.path == path)
            #expect(error.description.contains(expected), "\(file): \(error)")
            #expect(!error.description.contains("\n"))
        } catch {
            Issue.record("\(file): unexpected error \(error)")
        }
    }

    @Test func directoryIsNotAnImage() {
        #expect(throws: ImageError.self) { try PNG.read(FixturePaths.fixtures.path) }
    }

    @Test func writeRoundTripsAt8And16Bits() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = RandomGenerator(seed: 1)
        let image = Tensor.randomUniform([3, 9, 13], using: &rng)
        for depth in [8, 16] {
            let path = dir.appendingPathComponent("x\(depth).png").path
            try PNG.write(image, to: path, bitDepth: depth)
            let (back, info) = try PNG.readWithInfo(path)
            #expect(info.bitDepth == depth)
            let step = depth == 8 ? 1.0 / 255 : 1.0 / 65535
            let worst = zip(image.scalars, back.scalars).map { abs(Double($0) - Double($1)) }.max()!
            #expect(worst <= step / 2 + 1e-7, "\(depth)-bit error \(worst)")
        }
        // Quantized values survive exactly.
        let q = ColorSpace.quantized8(image)
        try PNG.write(q, to: dir.appendingPathComponent("q.png").path)
        #expect(try PNG.read(dir.appendingPathComponent("q.png").path).scalars == q.scalars)
        // No temporary file is left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test func writeErrorsNameTheProblem() {
        #expect(throws: ImageError.self) { try PNG.write(Tensor.zeros([3, 4, 4]), to: "/nonexistent-dir/x.png") }
        #expect(throws: ImageError.self) { try PNG.write(Tensor.zeros([4, 4]), to: "/tmp/x.png") }
    }

    /// Converted inputs are reported once per kind (alpha dropped, 16-bit), not per image.
    @Test func conversionsAreReportedOncePerKind() throws {
        let heard = Mutex<[String]>([])
        PNG.resetConversionNotices()
        PNG.setConversionNotice { message in heard.withLock { $0.append(message) } }
        defer { PNG.setConversionNotice { _ in } }
        for name in ["rgba8.png", "gray_alpha8.png", "rgba16.png", "rgb16.png", "rgb8.png"] {
            _ = try PNG.read(FixturePaths.fixtures.appendingPathComponent("png/\(name)").path)
        }
        let messages = heard.withLock { $0 }
        #expect(messages.filter { $0.contains("alpha channel") }.count == 1, "\(messages)")
        #expect(messages.filter { $0.contains("is 16-bit") }.count == 1, "\(messages)")
        #expect(messages.count == 2, "\(messages)")
    }
}
