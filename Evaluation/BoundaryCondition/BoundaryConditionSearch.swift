// The optimal boundary condition x̃_T (Ma et al., ICLR 2024, Eq. 19–21; docs/boundary-condition.md):
// K candidates x_T ~ N(0, I) at the HR size, each scored by its mean metric over R reference
// pairs (y_i, z_i) after the deterministic solver's map h_θ(x_T, y_i); the best candidate
// wins (arg-min for LPIPS and L1, arg-max for PSNR and SSIM). A Monte-Carlo arg-min: no
// gradients, no averaging of candidates.
//
// Candidate k is regenerated from (seed, k), so the run folder keeps only scores: one CSV
// line per candidate (its metric on each reference), appended and synced as it is measured.
// An interrupted search resumes; shards (`k mod N == i`) write their own files and a final
// call without a shard merges them, measures whatever is missing, and writes the artifact.
import Checkpoints
import ECDP
import Foundation
import Grad
import Imaging

public enum BoundaryConditionMetric: String, Sendable, CaseIterable {
    case lpips, psnr, ssim, l1

    public var lowerIsBetter: Bool { self == .lpips || self == .l1 }
}

/// One reference pair: an HR patch of the search size and its LR input.
public struct ReferencePatch: Sendable {
    public var source: String
    /// [x, y, w, h] in the source's HR pixels (x and y multiples of the scale).
    public var box: [Int]
    public var hr: Tensor
    public var lr: Tensor
}

public struct BoundaryConditionSearch {
    public var model: ECDPModel
    public var modelSHA256: String
    public var sampler: Sampler
    public var solverText: String
    public var metric: BoundaryConditionMetric
    public var lpips: LPIPS?
    public var candidates: Int
    public var size: Int
    public var seed: UInt64
    public var references: [ReferencePatch]
    public var scale: Int

    public init(model: ECDPModel, modelSHA256: String, solver: String, metric: BoundaryConditionMetric, lpips: LPIPS?,
                candidates: Int, size: Int, seed: UInt64, references: [ReferencePatch], scale: Int) throws {
        let sampler = try Sampler.parse(solver)
        guard sampler.isDeterministic else {
            throw EvaluationInputError("--solver \(solver) is stochastic: x̃_T only means something for a deterministic solver (its output depends on x_T alone)")
        }
        guard metric != .lpips || lpips != nil else { throw EvaluationInputError("--metric lpips needs an LPIPS backbone (--lpips-backbone FILE)") }
        self.model = model
        self.modelSHA256 = modelSHA256
        self.sampler = sampler
        solverText = solver
        self.metric = metric
        self.lpips = lpips
        self.candidates = candidates
        self.size = size
        self.seed = seed
        self.references = references
        self.scale = scale
    }

    /// R patches of `size` HR pixels, image and position drawn from `seed`, positions on the
    /// LR grid; LR from `lrFolder` (same name or `<stem>x<scale>.png`) or by the training
    /// degradation (MATLAB bicubic ×1/scale, 8-bit).
    public static func drawReferences(count: Int, size: Int, scale: Int, seed: UInt64, hrFolder: String,
                                      lrFolder: String?) throws -> [ReferencePatch] {
        guard size % scale == 0 else { throw EvaluationInputError("--size \(size) is not a multiple of the scale \(scale)") }
        let paths = try ImageFolder.list(hrFolder)
        let sizes = try paths.map { try PNG.size($0) }
        let usable = paths.indices.filter { sizes[$0].height >= size && sizes[$0].width >= size }
        guard !usable.isEmpty else { throw EvaluationInputError("\(hrFolder): no image is at least \(size)×\(size)") }
        var rng = RandomGenerator(seed: seed)
        var cache: [Int: (Tensor, Tensor?)] = [:]
        return try (0..<count).map { _ in
            let i = usable[rng.nextInt(below: usable.count)]
            let (h, w) = sizes[i]
            let y = rng.nextInt(below: (h - size) / scale + 1) * scale, x = rng.nextInt(below: (w - size) / scale + 1) * scale
            if cache[i] == nil {
                var lrImage: Tensor?
                if let lrFolder {
                    let name = (paths[i] as NSString).lastPathComponent
                    let candidates = [name, DIV2KNames.lowResolutionName(stem: DIV2KNames.stem(name), scale: scale)]
                        .map { (lrFolder as NSString).appendingPathComponent($0) }
                    guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                        throw EvaluationInputError("no LR image for \(name) in \(lrFolder)")
                    }
                    lrImage = try PNG.read(found)
                }
                cache[i] = (try PNG.read(paths[i]), lrImage)
            }
            let (image, lrImage) = cache[i]!
            let hr = image.slice(start: [0, y, x], size: [3, size, size])
            let lr = try lrImage.map { full -> Tensor in
                guard full.shape[1] * scale >= y + size, full.shape[2] * scale >= x + size else {
                    throw EvaluationInputError("the LR image of \((paths[i] as NSString).lastPathComponent) is smaller than its HR ÷ \(scale)")
                }
                return full.slice(start: [0, y / scale, x / scale], size: [3, size / scale, size / scale])
            } ?? ColorSpace.quantized8(MatlabResize.resize(hr, scale: 1 / Double(scale)))
            return ReferencePatch(source: (paths[i] as NSString).lastPathComponent, box: [x, y, size, size], hr: hr, lr: lr)
        }
    }

    /// Every image of `hrFolder` (sorted by name) whole, as one reference each: a prepared
    /// set of patches (`ecdp prepare --kind patches`), all of `size`². LR from `lrFolder` or by
    /// the training degradation, as in `drawReferences`.
    public static func allReferences(size: Int, scale: Int, hrFolder: String, lrFolder: String?) throws -> [ReferencePatch] {
        try ImageFolder.list(hrFolder).map { path in
            let hr = try PNG.read(path)
            let name = (path as NSString).lastPathComponent
            guard hr.shape[1] == size, hr.shape[2] == size else {
                throw EvaluationInputError("\(path) is \(hr.shape[2])×\(hr.shape[1]), not the search size \(size)×\(size)")
            }
            var lr = ColorSpace.quantized8(MatlabResize.resize(hr, scale: 1 / Double(scale)))
            if let lrFolder {
                let candidates = [name, DIV2KNames.lowResolutionName(stem: DIV2KNames.stem(name), scale: scale)]
                    .map { (lrFolder as NSString).appendingPathComponent($0) }
                guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                    throw EvaluationInputError("no LR image for \(name) in \(lrFolder)")
                }
                lr = try PNG.read(found)
                guard lr.shape[1] * scale == size, lr.shape[2] * scale == size else {
                    throw EvaluationInputError("\(found) is not the LR image of a \(size)² patch at ×\(scale)")
                }
            }
            return ReferencePatch(source: name, box: [0, 0, size, size], hr: hr, lr: lr)
        }
    }

    /// Candidate k's x_T, a function of (seed, k) alone.
    public func candidate(_ k: Int) -> Tensor {
        var rng = RandomGenerator(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(k + 1))
        return Tensor.randomNormal([1, 3, size, size], using: &rng)
    }

    /// Candidate k's metric on every reference (one batched solve).
    public func scores(of xT: Tensor) throws -> [Double] {
        let r = references.count
        let lr = Tensor.concatenate(references.map { $0.lr.reshaped([1] + $0.lr.shape) }, axis: 0)
        let noise = Tensor.concatenate(Array(repeating: xT, count: r), axis: 0)
        var rng = RandomGenerator(seed: 0)  // deterministic samplers draw nothing
        let (sr, _) = try model.superResolve(lr, startingNoise: noise, sampler: sampler, using: &rng)
        return (0..<r).map { i in
            let out = sr.slice(start: [i, 0, 0, 0], size: [1, 3, size, size]).reshaped([3, size, size])
            return score(out, references[i].hr)
        }
    }

    /// The metric of one output against its reference (8-bit RGB, no crop, as the `ecdp` protocol).
    func score(_ output: Tensor, _ reference: Tensor) -> Double {
        let ecdp = MetricProtocol.ecdp
        switch metric {
        case .psnr: return PSNR.compute(ecdp.prepared(output, scale: scale), ecdp.prepared(reference, scale: scale))
        case .ssim: return SSIM.compute(ecdp.prepared(output, scale: scale), ecdp.prepared(reference, scale: scale))
        case .l1:
            let a = ColorSpace.quantized8(output).scalars, b = ColorSpace.quantized8(reference).scalars
            return zip(a, b).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) } / Double(a.count)
        case .lpips:
            return Double(lpips!.distance(ColorSpace.quantized8(output), ColorSpace.quantized8(reference)))
        }
    }

    /// Network evaluations of one solve (one reference), when the solver fixes it; nil for
    /// the adaptive `rk45`, whose count depends on the solve.
    public var evaluationsPerSolve: Int? { sampler.fixedEvaluations }
}
