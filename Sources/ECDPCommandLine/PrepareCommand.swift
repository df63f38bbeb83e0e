// `ecdp prepare`: build (or verify) an evaluation set from a folder of images
// (Evaluation's TestSetPreparation does the work).
import ArgumentParser
import Evaluation
import Foundation

struct Prepare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build the papers' evaluation sets (HR + LR + manifest) from your copies of the data sets, or verify one.",
        discussion: """
        Kinds: div2k (HR cropped to a multiple of the scale, LR MATLAB bicubic ×1/4, DIV2K names), faces (resized to
        --size², 160 for CelebA, 256 for FFHQ, LR ×1/8, 8-bit MATLAB passes as the official datasets), imagenet (centred
        square crop resized to 256², LR ×1/4, as the official ImageNet test set), patches (--count random --size² patches
        drawn with --seed, LR by torchvision's antialiased bicubic ×1/4, as the BC paper). Output: OUT/hr, OUT/lr and
        OUT/manifest.json (source, crop box, seed, SHA-256 of each file). --verify OUT rebuilds every entry from its
        source and compares. See docs/evaluation.md.
        """)

    @Option(help: "div2k, faces, imagenet or patches.") var kind: String?
    @Option(help: "Folder of source PNG images.") var input: String?
    @Option(help: "Output folder.") var out: String?
    @Option(help: "Scale factor (default: 4; faces 8).") var scale: Int?
    @Option(help: "HR side (faces 160, imagenet and patches 256).") var size: Int?
    @Option(help: "Number of patches (patches: 300).") var count: Int?
    @Option(help: "Seed of the patch draw (patches: 0).") var seed: UInt64?
    @Option(help: "Verify the prepared set in this folder instead of building one.") var verify: String?

    func validate() throws {
        if verify != nil {
            guard kind == nil, out == nil else { throw ValidationError("--verify takes only --input (the sources, if they moved)") }
            return
        }
        guard let kind, TestSetKind(rawValue: kind) != nil else {
            throw ValidationError("--kind: choose one of \(TestSetKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard input != nil, out != nil else { throw ValidationError("--input and --out are required") }
        if let scale, scale < 1 { throw ValidationError("--scale must be at least 1") }
        if let size, size < 1 { throw ValidationError("--size must be at least 1") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        let s = scale ?? (kind == "faces" ? 8 : 4)
        if let size, size % s != 0 { throw ValidationError("--size \(size) is not a multiple of the scale \(s)") }
    }

    func run() throws {
        if let verify {
            let problems = try TestSetPreparation.verify(verify, input: input)
            guard problems.isEmpty else {
                for p in problems { print(p) }
                throw InputError("\(verify): \(problems.count) file(s) differ from the manifest's recipe")
            }
            print("\(verify): every file matches its manifest")
            return
        }
        let recipe = TestSetRecipe.defaults(TestSetKind(rawValue: kind!)!, scale: scale, size: size, count: count, seed: seed)
        var bar: ProgressBar?
        let manifest = try TestSetPreparation.prepare(recipe, input: input!, output: out!) { done, total in
            if bar == nil { bar = ProgressBar(total: total, label: "prepare") }
            bar!.update(done)
        }
        print("wrote \(manifest.entries.count) HR/LR pairs (\(recipe.kind.rawValue), ×\(recipe.scale)) and manifest.json to \(out!)")
    }
}
