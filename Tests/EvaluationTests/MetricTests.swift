// PSNR, SSIM and LR-PSNR under both protocols against scikit-image and BasicSR on real
// photographs (Tests/Fixtures/generate_image_fixtures.py), to 1e-4 dB and 1e-5.
import Evaluation
import Foundation
import Grad
import Imaging
import TestSupport
import Testing

struct MetricCase: Decodable {
    struct Values: Decodable { let psnr: Double; let ssim: Double; let lr_psnr: Double? }
    let name: String
    let reference: String, output: String, lr: String
    let ecdp: Values
    let basicsr: Values
}

struct MetricFile: Decodable { let cases: [MetricCase] }

@Suite("Metrics")
struct MetricTests {
    @Test func matchIndependentImplementations() throws {
        let file = try FixturePaths.decode(MetricFile.self, from: "metrics_reference.json")
        #expect(file.cases.count == 4)
        for c in file.cases {
            let hr = try PNG.read(FixturePaths.path(c.reference))
            let sr = try PNG.read(FixturePaths.path(c.output))
            let lr = try PNG.read(FixturePaths.path(c.lr))
            let e = try MetricProtocol.ecdp.evaluate(output: sr, reference: hr, lr: lr, scale: 4)
            #expect(e.protocolName == "ecdp")
            #expect(abs(e.psnr - c.ecdp.psnr) < 1e-4, "\(c.name) ecdp PSNR \(e.psnr) vs \(c.ecdp.psnr)")
            #expect(abs(e.ssim - c.ecdp.ssim) < 1e-5, "\(c.name) ecdp SSIM \(e.ssim) vs \(c.ecdp.ssim)")
            #expect(abs(e.lrPSNR! - c.ecdp.lr_psnr!) < 1e-4, "\(c.name) LR-PSNR \(e.lrPSNR!) vs \(c.ecdp.lr_psnr!)")
            let b = try MetricProtocol.basicsr.evaluate(output: sr, reference: hr, scale: 4)
            #expect(b.protocolName == "basicsr")
            #expect(abs(b.psnr - c.basicsr.psnr) < 1e-4, "\(c.name) basicsr PSNR \(b.psnr) vs \(c.basicsr.psnr)")
            #expect(abs(b.ssim - c.basicsr.ssim) < 1e-5, "\(c.name) basicsr SSIM \(b.ssim) vs \(c.basicsr.ssim)")
        }
    }

    @Test func identicalImagesGiveInfinitePSNRAndUnitSSIM() throws {
        let hr = try PNG.read(FixturePaths.path("Training/data/demo/test/chelsea.png"))
        let m = try MetricProtocol.ecdp.evaluate(output: hr, reference: hr, scale: 4)
        #expect(m.psnr == .infinity)
        #expect(abs(m.ssim - 1) < 1e-12)
    }

    @Test func sizeMismatchIsAnError() {
        #expect(throws: MetricError.self) {
            try MetricProtocol.ecdp.evaluate(output: Tensor.zeros([3, 16, 16]), reference: Tensor.zeros([3, 16, 20]), scale: 4)
        }
    }
}
