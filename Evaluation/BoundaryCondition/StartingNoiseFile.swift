// Reading a fixed starting noise x_T (`--x-T FILE` of upscale and eval, and the tables'
// x̃_T rows): a safetensors file with one tensor, typically a `find-bc` artifact. An artifact
// is specific to a model and a solver: when its metadata names others than this run's, say
// so (the run goes on — the user may mean it).
import Checkpoints
import Foundation
import Grad

public enum StartingNoiseFile {
    public static func load(_ path: String, checkpointSHA256: @autoclosure () throws -> String, solvers: [String],
                            warn: (String) -> Void = StartingNoiseFile.warnOnStandardError) throws -> Tensor {
        let archive = try Safetensors.read(path)
        guard archive.tensors.count == 1, let t = archive.tensors.first?.tensor else {
            throw EvaluationInputError("\(path): expected exactly one tensor (x_T), found \(archive.tensors.count)")
        }
        if let model = archive.metadata["model_sha256"], model != (try checkpointSHA256()) {
            warn("\(path) was searched for another model (SHA-256 \(model.prefix(12))…); x̃_T is specific to its model")
        }
        if let solver = archive.metadata["solver"], !solvers.contains(solver) {
            warn("\(path) was searched for --solver \(solver), not \(solvers.joined(separator: ", ")); x̃_T is specific to its solver")
        }
        return t.floatTensor()
    }

    public static func warnOnStandardError(_ text: String) { FileHandle.standardError.write(Data("warning: \(text)\n".utf8)) }
}
