// `ecdp degrade`: make LR images from HR images with MATLAB-compatible bicubic (the SR
// papers' degradation), saved as 8-bit PNG with DIV2K naming (`<stem>x<scale>.png`).
import AtomicFile
import ArgumentParser
import Foundation
import Imaging
import Training

struct Degrade: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Downscale HR PNGs with MATLAB bicubic (antialiased) into LR PNGs named <stem>x<scale>.png.")

    @Option(help: "HR PNG file or folder.") var input: String
    @Option(help: "Output folder.") var output: String
    @Option(help: "Downscaling factor.") var scale = 4

    func run() throws {
        guard scale >= 1 else { throw ValidationError("--scale must be ≥ 1") }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else { throw InputError("\(input): no such file or folder") }
        let files = isDir.boolValue ? try ImageFolder.list(input) : [input]
        try Folders.create(output)
        for file in files {
            let hr = try PNG.read(file)
            guard hr.shape[1] >= scale, hr.shape[2] >= scale else {
                throw InputError("\(file) is \(hr.shape[2])×\(hr.shape[1]): downscaling ×1/\(scale) would leave less than one pixel")
            }
            let h = hr.shape[1] / scale * scale, w = hr.shape[2] / scale * scale
            let lr = MatlabResize.resize(hr.slice(start: [0, 0, 0], size: [3, h, w]), scale: 1 / Double(scale))
            let path = (output as NSString).appendingPathComponent(DIV2KNames.lowResolutionName(stem: DIV2KNames.stem(file), scale: scale))
            try PNG.write(lr, to: path)
            print("\(file) → \(path) (\(w / scale)×\(h / scale))")
        }
    }
}
