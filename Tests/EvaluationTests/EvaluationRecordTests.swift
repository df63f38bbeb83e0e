// The evaluation's memory: per_image.csv rows round-trip exactly (names with commas and
// quotes included), a line cut by an interruption is rejected, and the summary's spreads
// are the sample standard deviations over images and over seeds.
import Testing
@testable import Evaluation

@Suite("Evaluation records")
struct EvaluationRecordTests {
    let record = EvaluationRecord(image: "a, \"b\".png", solver: "dpm3:20", temperature: 0.8, startingNoise: "random", seed: 7,
                                  psnr: 25.123456789012345, ssim: 0.7, lrPSNR: nil, lpips: 0.25, evaluations: 20, seconds: 1.5,
                                  output: "sr/dpm3-20/x.png")

    @Test func rowsRoundTripAndCutLinesAreRejected() {
        #expect(EvaluationRecord(csvLine: record.csvLine) == record)
        #expect(EvaluationRecord(csvLine: String(record.csvLine.prefix(30))) == nil)
        var infinite = record
        infinite.psnr = .infinity
        #expect(EvaluationRecord(csvLine: infinite.csvLine)?.psnr == .infinity)
        #expect(CSV.split("x,\"y,z\",\"q\"\"\",") == ["x", "y,z", "q\"", ""])
    }

    @Test func spreadsOverImagesAndSeeds() {
        // Two images × two seeds: image means 11 and 21 (std √50), seed means 15 and 17 (std √2).
        var rows: [EvaluationRecord] = []
        for (image, base) in [("a", 10.0), ("b", 20.0)] {
            for seed: UInt64 in [0, 1] {
                var r = record
                (r.image, r.seed, r.psnr) = (image, seed, base + 2 * Double(seed))
                rows.append(r)
            }
        }
        let settings = EvaluationSettings(checkpointName: "m", checkpointSHA256: "0", parameters: 1, protocolName: "ecdp", scale: 4,
                                          lpipsNetwork: nil, solvers: ["dpm3:20"], temperatures: [0.8], seeds: [0, 1],
                                          startingNoise: nil, limit: nil)
        let summary = EvaluationSummary(records: rows, settings: settings, protocolDescription: "ecdp", images: 2,
                                        machine: MachineDescription(cpu: "cpu", threads: 1))
        let psnr = summary.rows[0].metrics.first { $0.name == "psnr" }!
        #expect(psnr.mean == 16)
        #expect(abs(psnr.stdImages! - 50.0.squareRoot()) < 1e-12 && abs(psnr.stdSeeds! - 2.0.squareRoot()) < 1e-12)
        #expect(summary.rows[0].metrics.first { $0.name == "lr_psnr" }!.mean == nil)  // missing for some rows → null
        #expect(summary.markdown.contains("| dpm3:20 | 0.8 | random | 0,1 | 16.00 ± 7.07 |"))
    }
}
