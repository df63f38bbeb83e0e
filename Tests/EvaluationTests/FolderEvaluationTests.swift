// Pairing a folder of outputs with references and LR inputs (DIV2K names), errors that name
// the missing file, and the mean row.
import Evaluation
import Foundation
import TestSupport
import Testing

@Suite("Folder evaluation")
struct FolderEvaluationTests {
    @Test func pairsByNameWithDIV2KLowResolutionNames() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        let (out, ref, lr) = (dir.appendingPathComponent("sr").path, dir.appendingPathComponent("hr").path, dir.appendingPathComponent("lr").path)
        for d in [out, ref, lr] { try fm.createDirectory(atPath: d, withIntermediateDirectories: true) }
        let png = FixturePaths.path("Tests/Fixtures/metrics/face_sr.png")
        for (folder, name) in [(out, "0801.png"), (out, "0802.png"), (ref, "0801.png"), (ref, "0802.png"), (lr, "0801x4.png"), (lr, "0802.png"),
                               (out, "notes.txt")] {
            try fm.copyItem(atPath: png, toPath: (folder as NSString).appendingPathComponent(name))
        }
        let pairs = try FolderEvaluation.pairs(output: out, reference: ref, lr: lr, scale: 4)
        #expect(pairs.map(\.name) == ["0801.png", "0802.png"])
        #expect(pairs.map { ($0.lr! as NSString).lastPathComponent } == ["0801x4.png", "0802.png"])
        try fm.removeItem(atPath: (ref as NSString).appendingPathComponent("0802.png"))
        #expect(throws: EvaluationInputError("\(ref)/0802.png: no reference for output 0802.png")) {
            try FolderEvaluation.pairs(output: out, reference: ref, scale: 4)
        }
        #expect(throws: EvaluationInputError("/nonexistent: no such file or folder")) {
            try FolderEvaluation.pairs(output: "/nonexistent", reference: ref, scale: 4)
        }
    }

    @Test func meanKeepsLRPSNROnlyWhenEveryImageHasIt() {
        let a = ImageMetrics(protocolName: "ecdp", psnr: 30, ssim: 0.8, lrPSNR: 40)
        let b = ImageMetrics(protocolName: "ecdp", psnr: 20, ssim: 0.6, lrPSNR: 50)
        #expect(FolderEvaluation.mean([a, b], protocolName: "ecdp") == ImageMetrics(protocolName: "ecdp", psnr: 25, ssim: 0.7, lrPSNR: 45))
        var c = b
        c.lrPSNR = nil
        #expect(FolderEvaluation.mean([a, c], protocolName: "ecdp").lrPSNR == nil)
    }
}
