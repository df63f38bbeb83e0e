// torchvision's antialiased bicubic resize against torchvision itself
// (Tests/Fixtures/generate_torchvision_resize_fixtures.py): shrinking ×4, odd non-integer
// factors, identity and enlarging.
import Foundation
import Grad
import Imaging
import TestSupport
import Testing

@Suite("torchvision resize")
struct TorchvisionResizeTests {
    struct Case: Decodable { let height: Int, width: Int, data: [Float] }
    struct File: Decodable { let cases: [Case] }

    @Test func matchesTorchvision() throws {
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath:
            FixturePaths.path("Tests/Fixtures/torchvision_resize_reference.json"))))
        let image = try PNG.read(FixturePaths.path("Training/data/demo/test/chelsea.png")).slice(start: [0, 100, 120], size: [3, 32, 30])
        for c in file.cases {
            let out = TorchvisionResize.resize(image, height: c.height, width: c.width)
            #expect(out.shape == [3, c.height, c.width])
            let worst = zip(out.scalars, c.data).map { abs($0 - $1) }.max()!
            #expect(worst < 2e-6, "\(c.width)×\(c.height): max |Δ| \(worst)")
        }
    }

    @Test func differsFromMatlabOnlyNearTheBorder() throws {
        // Same kernel and centres; MATLAB mirrors at the border, torchvision clips the window.
        let image = try PNG.read(FixturePaths.path("Training/data/demo/test/face.png")).slice(start: [0, 0, 0], size: [3, 64, 64])
        let tv = TorchvisionResize.resize(image, height: 16, width: 16), matlab = MatlabResize.resize(image, scale: 0.25)
        let inner = { (t: Tensor) in t.slice(start: [0, 2, 2], size: [3, 12, 12]).scalars }
        #expect(zip(inner(tv), inner(matlab)).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(zip(tv.scalars, matlab.scalars).contains { abs($0 - $1) > 1e-4 })
    }
}
