// The data pipeline: shapes, alignment with MATLAB degradation, determinism, resume
// positions, paired folders, augmentations, prefetching, and errors that name the problem.
import Foundation
import Grad
import Imaging
import TestSupport
import Testing
import Training

let demoTrain = FixturePaths.path("Training/data/demo/train")
let demoTest = FixturePaths.path("Training/data/demo/test")

@Suite("Data pipeline")
struct DataPipelineTests {
    @Test func demoDatasetShipsWithItsSplit() throws {
        #expect(try ImageFolder.list(demoTrain).count == 11)
        #expect(try ImageFolder.list(demoTest).count == 4)
        #expect(FileManager.default.fileExists(atPath: FixturePaths.path("Training/data/demo/LICENSES.md")))
    }

    @Test func batchesAreNCHWAndLRIsTheMatlabDownscale() throws {
        let data = try SRDataset(hrFolder: demoTrain, scale: 4)
        let batches = try TrainingBatches(dataset: data, batchSize: 3, cropSize: 32, seed: 1, augment: false)
        let b = try batches.batch(epoch: 0, step: 0)
        #expect(b.hr.shape == [3, 3, 32, 32] && b.lr.shape == [3, 3, 8, 8])
        // Each LR crop is the MATLAB downscale of its HR crop.
        let first = b.hr.slice(start: [0, 0, 0, 0], size: [1, 3, 32, 32])
        let expected = MatlabResize.resize(first, scale: 0.25)
        #expect(b.lr.slice(start: [0, 0, 0, 0], size: [1, 3, 8, 8]).scalars == expected.scalars)
        #expect(b.hr.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func sameSeedSameBatchesAndEpochsDiffer() throws {
        let data = try SRDataset(hrFolder: demoTrain, scale: 4)
        let a = try TrainingBatches(dataset: data, batchSize: 2, cropSize: 16, seed: 7)
        let b = try TrainingBatches(dataset: data, batchSize: 2, cropSize: 16, seed: 7)
        let c = try TrainingBatches(dataset: data, batchSize: 2, cropSize: 16, seed: 8)
        #expect(try a.batch(epoch: 3, step: 2).hr.scalars == b.batch(epoch: 3, step: 2).hr.scalars)
        #expect(try a.batch(epoch: 3, step: 2).hr.scalars != c.batch(epoch: 3, step: 2).hr.scalars)
        #expect(a.order(epoch: 0) != a.order(epoch: 1))
        #expect(a.order(epoch: 0).sorted() == Array(0..<11))
        #expect(a.batchesPerEpoch == 5)
    }

    @Test func prefetcherMatchesDirectBatchesAcrossEpochs() throws {
        let data = try SRDataset(hrFolder: demoTrain, scale: 4)
        let batches = try TrainingBatches(dataset: data, batchSize: 4, cropSize: 16, seed: 3)
        // Start mid-epoch, as a resumed run does.
        let loader = BatchPrefetcher(batches, startEpoch: 1, step: 1)
        let expected = [(1, 1), (2, 0), (2, 1), (3, 0)]
        for (e, s) in expected {
            let got = try loader.next()
            #expect(got.epoch == e && got.step == s)
            #expect(got.hr.scalars == (try batches.batch(epoch: e, step: s)).hr.scalars)
        }
        loader.stop()
    }

    @Test func pairedFoldersUseDIV2KNaming() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let hrDir = dir.appendingPathComponent("HR"), lrDir = dir.appendingPathComponent("LR/X4")
        try FileManager.default.createDirectory(at: hrDir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: lrDir, withIntermediateDirectories: true)
        let hr = try PNG.read(FixturePaths.path("Training/data/demo/test/chelsea.png")).slice(start: [0, 0, 0], size: [3, 64, 48])
        try PNG.write(hr, to: hrDir.appendingPathComponent("0801.png").path)
        let lr = ColorSpace.quantized8(MatlabResize.resize(hr, scale: 0.25))
        try PNG.write(lr, to: lrDir.appendingPathComponent("0801x4.png").path)
        let data = try SRDataset(hrFolder: hrDir.path, lrFolder: lrDir.path, scale: 4)
        #expect(data.lrPaths!.first!.hasSuffix("0801x4.png"))
        #expect(try data.lr(0).scalars == lr.scalars)
        let (h, l) = try data.crop(0, y: 16, x: 8, size: 16)
        #expect(h.shape == [3, 16, 16] && l.shape == [3, 4, 4])
        #expect(l.scalars == lr.slice(start: [0, 4, 2], size: [3, 4, 4]).scalars)
        // A wrong-sized LR is named.
        try PNG.write(Tensor.zeros([3, 5, 5]), to: lrDir.appendingPathComponent("0801x4.png").path)
        let bad = try SRDataset(hrFolder: hrDir.path, lrFolder: lrDir.path, scale: 4)
        #expect(throws: DataError.self) { try bad.lr(0) }
    }

    @Test func augmentationsAreTheDihedralMoves() {
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [1, 2, 3])  // [[1 2 3] [4 5 6]]
        #expect(Augmentation.horizontalFlip(x).scalars == [3, 2, 1, 6, 5, 4])
        let r = Augmentation.rotate90(x)  // numpy rot90: [[3 6] [2 5] [1 4]]
        #expect(r.shape == [1, 3, 2] && r.scalars == [3, 6, 2, 5, 1, 4])
        let four = (0..<4).reduce(x) { y, _ in Augmentation.rotate90(y) }
        #expect(four.scalars == x.scalars)
    }

    @Test func validationCropsAreCentredAndDeterministic() throws {
        let data = try SRDataset(hrFolder: demoTest, scale: 4)
        let a = try data.validationPairs(cropSize: 64), b = try data.validationPairs(cropSize: 64)
        #expect(a.count == 4 && a[0].hr.shape == [1, 3, 64, 64] && a[0].lr.shape == [1, 3, 16, 16])
        #expect(a[0].hr.scalars == b[0].hr.scalars)
        let whole = try data.validationPairs(cropSize: nil)
        #expect(whole[0].hr.shape == [1, 3, 384, 384] && whole[0].lr.shape == [1, 3, 96, 96])
    }

    @Test func errorsNameTheProblem() throws {
        #expect(throws: ImageError(path: "/nonexistent", reason: "no such folder")) { try SRDataset(hrFolder: "/nonexistent", scale: 4) }
        let data = try SRDataset(hrFolder: demoTest, scale: 4)
        #expect(throws: DataError.self) { try TrainingBatches(dataset: data, batchSize: 8, cropSize: 32, seed: 0) }
        #expect(throws: DataError.self) { try TrainingBatches(dataset: data, batchSize: 2, cropSize: 30, seed: 0) }
        let huge = try TrainingBatches(dataset: data, batchSize: 2, cropSize: 512, seed: 0)
        do { _ = try huge.batch(epoch: 0, step: 0); Issue.record("crop larger than image accepted") }
        catch let e as DataError { #expect(e.message.contains("smaller than the 512×512 crop")) }
    }
}
