// MATLAB imresize against BasicSR's independent port (fixtures from
// Tests/Fixtures/generate_image_fixtures.py), and against PyTorch-semantics bicubic to
// show they differ where they should.
import Foundation
import Grad
import Imaging
import TestSupport
import Testing

struct ResizeCase: Decodable {
    let source: String
    let y: Int, x: Int, height: Int, width: Int
    let scale: Double
    let out_height: Int, out_width: Int
    let output_chw: [Double]
}

struct ResizeFile: Decodable { let cases: [ResizeCase] }

@Suite("MATLAB imresize")
struct MatlabResizeTests {
    @Test func matchesBasicSRPort() throws {
        let file = try FixturePaths.decode(ResizeFile.self, from: "resize_reference.json")
        #expect(file.cases.count == 6)
        for c in file.cases {
            let photo = try PNG.read(FixturePaths.path(c.source))
            let crop = photo.slice(start: [0, c.y, c.x], size: [3, c.height, c.width])
            let out = MatlabResize.resize(crop, scale: c.scale)
            #expect(out.shape == [3, c.out_height, c.out_width], "scale \(c.scale) shape")
            // The reference computes in fp32 (torch); ours in Double.
            let worst = zip(out.scalars, c.output_chw).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(worst < 2e-6, "scale \(c.scale): max error \(worst)")
        }
    }

    @Test func constantImagesStayConstant() {
        let flat = Tensor(shape: [1, 3, 17, 23], repeating: 0.3)
        for s in [0.25, 0.5, 2.0, 1.0 / 3] {
            #expect(MatlabResize.resize(flat, scale: s).scalars.allSatisfy { abs($0 - 0.3) < 1e-6 })
        }
    }

    @Test func antialiasingDiffersFromModelBicubic() {
        var rng = RandomGenerator(seed: 2)
        let x = Tensor.randomUniform([1, 1, 16, 16], using: &rng)
        let matlab = MatlabResize.resize(x, scale: 0.25)
        let torch = x.resized(height: 4, width: 4, mode: .bicubic)
        #expect(matlab.shape == torch.shape)
        #expect(zip(matlab.scalars, torch.scalars).contains { abs($0 - $1) > 1e-3 })
    }

    /// The official ECDP code's `imresize` on uint8 images (its dataset pipeline), both passes
    /// rounding to 8 bit: Tests/Fixtures/generate_imresize_uint8_fixtures.py.
    @Test func eightBitPassesMatchTheOfficialPort() throws {
        struct Case: Decodable { let height: Int, width: Int, data: [Int] }
        struct File: Decodable { let cases: [Case] }
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath:
            FixturePaths.path("Tests/Fixtures/imresize_uint8_reference.json"))))
        let image = try PNG.read(FixturePaths.path("Training/data/demo/test/face.png")).slice(start: [0, 40, 50], size: [3, 36, 30])
        for c in file.cases {
            let out = MatlabResize.resize8Bit(image, height: c.height, width: c.width).scalars.map { Int(($0 * 255).rounded()) }
            // Equal but for values that are exact .5 ties in exact arithmetic, where the last bit of
            // the sum (summation order) decides the rounding: at most one level, at most 0.5 % of
            // the values (3 of 1200 in the 20×20 case, each one an exact tie in the port's sums).
            let differences = zip(out, c.data).map { abs($0 - $1) }
            #expect(differences.max()! <= 1 && differences.filter { $0 > 0 }.count * 200 <= out.count,
                    "\(c.width)×\(c.height): \(differences.filter { $0 > 0 }.count) of \(out.count) values differ")
        }
    }
}
