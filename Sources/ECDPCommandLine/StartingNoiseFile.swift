// Reading `--x-T FILE` for upscale and eval: a safetensors file with one tensor, typically a
// `find-bc` artifact. An artifact is specific to a model and a solver: when its metadata
// names others than this run's, say so once (the run goes on — the user may mean it).
import Checkpoints
import Foundation
import Grad

enum StartingNoiseFile {
    static func load(_ path: String, checkpointSHA256: @autoclosure () throws -> String, solvers: [String]) throws -> Tensor {
        let archive = try Safetensors.read(path)
        guard archive.tensors.count == 1, let t = archive.tensors.first?.tensor else {
            throw InputError("\(path): expected exactly one tensor (x_T), found \(archive.tensors.count)")
        }
        if let model = archive.metadata["model_sha256"], model != (try checkpointSHA256()) {
            warn("\(path) was searched for another model (SHA-256 \(model.prefix(12))…); x̃_T is specific to its model")
        }
        if let solver = archive.metadata["solver"], !solvers.contains(solver) {
            warn("\(path) was searched for --solver \(solver), not \(solvers.joined(separator: ", ")); x̃_T is specific to its solver")
        }
        return t.floatTensor()
    }

    static func warn(_ text: String) { FileHandle.standardError.write(Data("warning: \(text)\n".utf8)) }
}
