// `ecdp prepare`: the evaluation sets the papers use, built from the user's copies of the
// public data sets, each with a manifest (source file, crop box, seed) so it can be rebuilt
// and verified. docs/evaluation.md describes each recipe.
//
// - div2k:    every HR image cropped to a multiple of the scale; LR by MATLAB bicubic
//             ×1/scale (the degradation DIV2K's own LR images were made with), DIV2K names.
// - faces:    every image resized to size × size (MATLAB bicubic on 8-bit, as the official
//             CelebA (160) / FFHQ (256) datasets), LR ×1/scale (default 8) the same way.
// - imagenet: the centred square crop (offset round-half-even((side − short side)/2), as the
//             official ImageNet test set), resized to size × size (256), LR ×1/4, 8-bit passes.
// - patches:  `count` random size² patches (image and position drawn from the seed), LR by
//             torchvision's antialiased bicubic ×1/scale (the BC paper), saved as 8-bit PNG.
import AtomicFile
import Foundation
import Grad
import Imaging

public enum TestSetKind: String, Sendable, Codable, CaseIterable {
    case div2k, faces, imagenet, patches
}

public struct TestSetRecipe: Sendable, Equatable, Codable {
    public var kind: TestSetKind
    public var scale: Int
    /// HR side for faces, imagenet and patches.
    public var size: Int?
    /// Patches to draw.
    public var count: Int?
    public var seed: UInt64?

    public init(kind: TestSetKind, scale: Int, size: Int? = nil, count: Int? = nil, seed: UInt64? = nil) {
        self.kind = kind
        self.scale = scale
        self.size = size
        self.count = count
        self.seed = seed
    }

    /// The paper defaults for what is not given.
    public static func defaults(_ kind: TestSetKind, scale: Int?, size: Int?, count: Int?, seed: UInt64?) -> TestSetRecipe {
        switch kind {
        case .div2k: return TestSetRecipe(kind: kind, scale: scale ?? 4)
        case .faces: return TestSetRecipe(kind: kind, scale: scale ?? 8, size: size ?? 160)
        case .imagenet: return TestSetRecipe(kind: kind, scale: scale ?? 4, size: size ?? 256)
        case .patches: return TestSetRecipe(kind: kind, scale: scale ?? 4, size: size ?? 256, count: count ?? 300, seed: seed ?? 0)
        }
    }
}

/// One image of a prepared set: where it came from and what was written.
public struct TestSetEntry: Sendable, Equatable, Codable {
    public var hr: String
    public var lr: String
    public var source: String
    /// The crop of the source, [x, y, width, height] in source pixels.
    public var box: [Int]
    public var hrSHA256: String
    public var lrSHA256: String

    enum CodingKeys: String, CodingKey {
        case hr, lr, source, box, hrSHA256 = "hr_sha256", lrSHA256 = "lr_sha256"
    }
}

public struct TestSetManifest: Sendable, Equatable, Codable {
    public var recipe: TestSetRecipe
    /// The source folder as given.
    public var sourceFolder: String
    public var entries: [TestSetEntry]

    enum CodingKeys: String, CodingKey { case recipe, sourceFolder = "source_folder", entries }
}

public enum TestSetPreparation {
    /// Builds the set from the PNG images in `input` into `output` (hr/, lr/, manifest.json).
    public static func prepare(_ recipe: TestSetRecipe, input: String, output: String,
                               progress: (Int, Int) -> Void = { _, _ in }) throws -> TestSetManifest {
        let sources = try ImageFolder.list(input)
        let fm = FileManager.default
        for folder in ["hr", "lr"] {
            try Folders.create((output as NSString).appendingPathComponent(folder))
        }
        let plan = try self.plan(recipe, sources: sources)
        var entries: [TestSetEntry] = []
        for (k, item) in plan.enumerated() {
            let (hr, lr) = try make(recipe, source: item.source, box: item.box)
            let hrPath = (output as NSString).appendingPathComponent(item.hr), lrPath = (output as NSString).appendingPathComponent(item.lr)
            try PNG.write(hr, to: hrPath)
            try PNG.write(lr, to: lrPath)
            entries.append(TestSetEntry(hr: item.hr, lr: item.lr, source: (item.source as NSString).lastPathComponent, box: item.box,
                                        hrSHA256: try sha256(ofFile: hrPath), lrSHA256: try sha256(ofFile: lrPath)))
            progress(k + 1, plan.count)
        }
        let manifest = TestSetManifest(recipe: recipe, sourceFolder: input, entries: entries)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(manifest).write(to: URL(fileURLWithPath: (output as NSString).appendingPathComponent("manifest.json")))
        return manifest
    }

    /// Rebuilds every entry of `output`'s manifest from its source (in `input`, default the
    /// manifest's folder) and compares with the files: the problems found, empty when the set
    /// is what its manifest says.
    public static func verify(_ output: String, input: String? = nil) throws -> [String] {
        let manifestPath = (output as NSString).appendingPathComponent("manifest.json")
        guard let data = FileManager.default.contents(atPath: manifestPath) else { throw EvaluationInputError("\(manifestPath): no manifest") }
        let manifest: TestSetManifest
        do { manifest = try JSONDecoder().decode(TestSetManifest.self, from: data) } catch {
            throw EvaluationInputError("\(manifestPath): not a test-set manifest (\(error))")
        }
        var problems: [String] = []
        for entry in manifest.entries {
            let source = ((input ?? manifest.sourceFolder) as NSString).appendingPathComponent(entry.source)
            let (hr, lr) = try make(manifest.recipe, source: source, box: entry.box)
            for (name, expected, hash) in [(entry.hr, hr, entry.hrSHA256), (entry.lr, lr, entry.lrSHA256)] {
                let path = (output as NSString).appendingPathComponent(name)
                guard let onDisk = try? PNG.read(path) else { problems.append("\(name): missing or unreadable"); continue }
                if onDisk.shape != expected.shape || onDisk.scalars != ColorSpace.quantized8(expected).scalars {
                    problems.append("\(name): differs from what \(entry.source) gives")
                } else if try sha256(ofFile: path) != hash {
                    problems.append("\(name): same pixels, but the file's SHA-256 differs from the manifest's")
                }
            }
        }
        return problems
    }

    struct PlannedItem { var source: String; var box: [Int]; var hr: String; var lr: String }

    /// Which source, which crop, which names — everything random is drawn here, from the seed.
    static func plan(_ recipe: TestSetRecipe, sources: [String]) throws -> [PlannedItem] {
        func names(_ stem: String) -> (String, String) { ("hr/\(stem).png", "lr/\(DIV2KNames.lowResolutionName(stem: stem, scale: recipe.scale))") }
        switch recipe.kind {
        case .div2k, .faces, .imagenet:
            return try sources.map { path in
                let (h, w) = try PNG.size(path)
                let box: [Int]
                switch recipe.kind {
                case .div2k: box = [0, 0, w / recipe.scale * recipe.scale, h / recipe.scale * recipe.scale]
                case .imagenet:
                    let side = min(h, w)
                    box = [roundHalfEven(Double(w - side) / 2), roundHalfEven(Double(h - side) / 2), side, side]
                default: box = [0, 0, w, h]
                }
                guard box[2] > 0, box[3] > 0 else { throw EvaluationInputError("\(path): \(w)×\(h) is smaller than the scale \(recipe.scale)") }
                let (hr, lr) = names(DIV2KNames.stem(path))
                return PlannedItem(source: path, box: box, hr: hr, lr: lr)
            }
        case .patches:
            let size = recipe.size ?? 256, count = recipe.count ?? 300
            guard size % recipe.scale == 0 else { throw EvaluationInputError("--size \(size) is not a multiple of --scale \(recipe.scale)") }
            let sizes = try sources.map { try PNG.size($0) }
            let usable = sources.indices.filter { sizes[$0].0 >= size && sizes[$0].1 >= size }
            guard !usable.isEmpty else { throw EvaluationInputError("no image in the folder is at least \(size)×\(size)") }
            var rng = RandomGenerator(seed: recipe.seed ?? 0)
            return (0..<count).map { k in
                let i = usable[rng.nextInt(below: usable.count)]
                let (h, w) = sizes[i]
                let y = rng.nextInt(below: h - size + 1), x = rng.nextInt(below: w - size + 1)
                let (hr, lr) = names(String(format: "patch%04d", k))
                return PlannedItem(source: sources[i], box: [x, y, size, size], hr: hr, lr: lr)
            }
        }
    }

    /// The HR and LR images of one entry.
    static func make(_ recipe: TestSetRecipe, source: String, box: [Int]) throws -> (hr: Tensor, lr: Tensor) {
        let image = try PNG.read(source)
        guard box[1] + box[3] <= image.shape[1], box[0] + box[2] <= image.shape[2] else {
            throw EvaluationInputError("\(source): \(image.shape[2])×\(image.shape[1]) does not hold the crop \(box)")
        }
        let crop = image.slice(start: [0, box[1], box[0]], size: [3, box[3], box[2]])
        let s = recipe.scale
        switch recipe.kind {
        case .div2k:
            return (crop, ColorSpace.quantized8(MatlabResize.resize(crop, scale: 1 / Double(s))))
        case .faces, .imagenet:
            let size = recipe.size ?? 256
            let hr = MatlabResize.resize8Bit(crop, height: size, width: size)
            return (hr, MatlabResize.resize8Bit(hr, height: size / s, width: size / s))
        case .patches:
            return (crop, ColorSpace.quantized8(TorchvisionResize.resize(crop, height: box[3] / s, width: box[2] / s)))
        }
    }

    /// Python's `round` (half to even), which the official ImageNet crop offset uses.
    static func roundHalfEven(_ x: Double) -> Int { Int(x.rounded(.toNearestOrEven)) }
}
