// `ecdp find-bc`: search the optimal boundary condition x̃_T for a model and a deterministic
// solver (Evaluation's BoundaryConditionSearch does the work; docs/boundary-condition.md).
import ArgumentParser
import Distributed
import ECDP
import Evaluation
import Foundation
import GradKernels
import Training

struct FindBC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find-bc",
        abstract: "Search the shared starting noise x̃_T that makes a model's deterministic solver best on reference patches.",
        discussion: """
        K candidates x_T ~ N(0, I) at --size² are each scored by the mean --metric over R reference patches
        (drawn with --seed from the HR images in --reference; LR by the training degradation unless --lr is
        given); the best one is written to --out (safetensors: the tensor x_T and metadata: K, R, metric, solver,
        size, seed, winner, every candidate's score, the model's SHA-256, the references). The run folder
        <out>.run/ keeps the score matrix: rerunning resumes; --shard i/N runs every N-th candidate, and a final
        call without --shard merges. Cost: K·R·steps network evaluations. See docs/boundary-condition.md.
        """)

    @Option(help: "Checkpoint: RUN/checkpoint.h5, an exported .safetensors, or an official checkpoint.") var checkpoint: String
    @Option(help: "Config name or YAML, when the checkpoint does not carry one.") var config: String?
    @Option(help: "Folder of HR reference images.") var reference: String
    @Option(help: "Folder of their LR images (default: made by the training degradation).") var lr: String?
    @Option(name: .customLong("K"), help: "Candidates.") var candidates = 1000
    @Option(name: .customLong("R"), help: "Reference patches.") var references = 300
    @Option(help: "lpips, psnr, ssim or l1.") var metric = "lpips"
    @Option(help: "The LPIPS backbone (torchvision .pth or safetensors), for --metric lpips.") var lpipsBackbone: String?
    @Option(help: "LPIPS network for --metric lpips: alex, vgg or squeeze.") var lpipsNet = "alex"
    @Option(help: "A deterministic sampler (e.g. ddim:50, dpm3:20, rk45).") var solver = "ddim:50"
    @Option(help: "HR side of x_T and of the reference patches.") var size = 256
    @Option(help: "Seed of the references and the candidates.") var seed: UInt64 = 0
    @Option(help: "The artifact to write (safetensors).") var out: String
    @Option(help: "Run only candidates k with k mod N = i (i/N); merge with a final call without --shard.") var shard: String?
    @Flag(help: "Print the score matrix so far (CSV: candidate, then one column per reference) and stop.") var scoreMatrix = false
    @OptionGroup var threadOptions: ThreadOptions

    func parsedShard() throws -> (index: Int, count: Int)? {
        guard let shard else { return nil }
        let parts = shard.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, (0..<parts[1]).contains(parts[0]) else {
            throw ValidationError("--shard \(shard): expected i/N with 0 ≤ i < N")
        }
        return (parts[0], parts[1])
    }

    func validate() throws {
        guard let m = BoundaryConditionMetric(rawValue: metric) else {
            throw ValidationError("--metric \(metric): choose one of \(BoundaryConditionMetric.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if m == .lpips, LPIPSNetwork(rawValue: lpipsNet) == nil { throw ValidationError("--lpips-net \(lpipsNet): alex, vgg or squeeze") }
        guard candidates >= 1, references >= 1, size >= 1 else { throw ValidationError("--K, --R and --size must be at least 1") }
        if m == .ssim, size < SSIM.windowSize {
            throw ValidationError("--size \(size) is below SSIM's \(SSIM.windowSize)×\(SSIM.windowSize) window; use --size \(SSIM.windowSize) or more")
        }
        _ = try parsedShard()
        do {
            guard try Sampler.parse(solver).isDeterministic else {
                throw ValidationError("--solver \(solver) is stochastic: x̃_T only means something for a deterministic solver")
            }
        } catch let e as ValidationError { throw e } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        if scoreMatrix {
            print(try BoundaryConditionSearch.scoreMatrixCSV(out, references: references), terminator: "")
            return
        }
        threadOptions.apply()
        let fallback = try config.map { try TrainingConfig.resolve($0) }
        let (model, cfg) = try InferenceModel.load(checkpoint: checkpoint, config: fallback)
        let metric = BoundaryConditionMetric(rawValue: self.metric)!
        let perceptual = metric == .lpips ? try LPIPSWeights.load(LPIPSNetwork(rawValue: lpipsNet)!, backbone: lpipsBackbone) : nil
        let refs = try BoundaryConditionSearch.drawReferences(count: references, size: size, scale: cfg.data.scale, seed: seed,
                                                              hrFolder: reference, lrFolder: lr)
        let search = try BoundaryConditionSearch(model: model, modelSHA256: try sha256(ofFile: checkpoint), solver: solver, metric: metric,
                                                 lpips: perceptual, candidates: candidates, size: size, seed: seed, references: refs,
                                                 scale: cfg.data.scale)
        var shard = try parsedShard()
        // Under mpirun each process scores its shard of the candidates; then rank 0 merges.
        let communicator = try launchCommunicator()
        if communicator.size > 1 {
            guard shard == nil else { throw InputError("--shard and mpirun both split the search: use one of them") }
            try stoppingAllOnFailure(communicator) {
                var bar: ProgressBar?
                _ = try search.run(out: out, shard: (communicator.rank, communicator.size)) { done, total in
                    guard communicator.isRoot else { return }  // rank 0's share stands for the run's progress
                    if bar == nil { bar = ProgressBar(total: total, label: "find-bc (rank 0 of \(communicator.size))", start: done) }
                    bar!.update(done)
                }
            }
            _ = try communicator.sum([0])  // every shard is written before rank 0 merges
            guard communicator.isRoot else { return }
            shard = nil
        }
        var bar: ProgressBar?
        let result = try search.run(out: out, shard: shard) { done, total in
            if bar == nil {
                bar = ProgressBar(total: total, label: "find-bc", start: done)
                if done > 0 { bar!.note("resuming: \(done) of \(total) candidates already scored") }
            }
            bar!.update(done)
        }
        guard let result else {
            print("shard \(shard!.index)/\(shard!.count) done; merge with a call without --shard")
            return
        }
        print("x̃_T = candidate \(result.winner) of \(candidates): mean \(metric.rawValue) \(String(format: "%.5f", result.winnerMean)) "
            + "over \(refs.count) references (\(metric.lowerIsBetter ? "lower" : "higher") is better); "
            + "\(result.evaluations.map { "\($0) network evaluations (K·R·steps)" } ?? "an adaptive solver's network evaluations"); wrote \(out)")
    }
}
