// Data-parallel training steps (docs/distributed.md): every process draws the whole batch
// — its crops, augmentations, diffusion times and noise, from the same seeded state — and
// keeps its own contiguous share, so the union over processes is exactly the one-process
// batch. Each process averages the loss over its share; summing the gradients over the
// processes and dividing by their number gives the one-process mean gradient, and every
// process applies the same optimizer step, so the weights stay identical (checked with a
// checksum every `schedule.log_every` steps).
import Dispatch
import Distributed
import ECDP
import Foundation
import Grad
import GradNN

extension Trainer {
    /// One step's loss and gradients (added into the parameters' gradients) over this
    /// process's share of `batch` (in `optimizer.accumulate` micro-batches), then averaged
    /// over all processes. Returns the batch's loss.
    func dataParallelGradients(_ batch: SRBatch, parameters: [Parameter]) throws -> Float {
        let n = batch.hr.shape[0], processes = communicator.size
        guard n % processes == 0 else {
            throw TrainingFailure(message: "data.batch \(n) is not divisible by the \(processes) processes of this run; "
                + "choose a batch that is a multiple of the process count")
        }
        // The one-process draw, in its order (ECDPModel.loss(hr:lr:using:)): times, then noise.
        let times = model.diffusion.sampleTimes(count: n, using: &noise)
        let eps = Tensor.randomNormal(batch.hr.shape, using: &noise)
        let share = n / processes, parts = config.optimizer.accumulate
        guard share % parts == 0 else {
            throw TrainingFailure(message: "each process's share of the batch (\(share)) is not divisible by optimizer.accumulate \(parts)")
        }
        // The share in `parts` micro-batches; each one's mean loss weighted 1/parts, so the
        // gradients add up to the share's mean.
        let micro = share / parts
        var local = 0.0
        for part in 0..<parts {
            let first = communicator.rank * share + part * micro, mine = first..<first + micro
            local += Double(accumulateGradients(of: parameters) {
                model.loss(hr: batch.hr.samples(mine), lr: batch.lr.samples(mine), times: Array(times[mine]), noise: eps.samples(mine))
                    * (1 / Float(parts))
            }.item)
        }
        if processes > 1 { try averageGradients(parameters) }
        return Float(try communicator.sum([local])[0] / Double(processes))
    }

    /// One fine-tuning step over this process's share of `batch` (every draw made for the whole
    /// batch), its gradients and each term's value averaged over the processes.
    func dataParallelFinetuneGradients(_ batch: SRBatch, _ ft: TrainingConfig.Finetune, parameters: [Parameter]) throws -> FinetuneStepReport {
        let share = config.data.batch / communicator.size, first = communicator.rank * share
        var terms = try finetuneGradients(batch, ft, share: first..<first + share)
        try averageGradients(parameters)
        // Each term's mean over the batch: the mean of the equal shares' means.
        let values = [terms.features, terms.pixel, terms.scoreMatching].map { Double($0 ?? 0) }
        let means = try communicator.sum(values).map { Float($0 / Double(communicator.size)) }
        if terms.features != nil { terms.features = means[0] }
        if terms.pixel != nil { terms.pixel = means[1] }
        if terms.scoreMatching != nil { terms.scoreMatching = means[2] }
        return terms
    }

    /// Sums every parameter's gradient over the processes and divides by their number.
    func averageGradients(_ parameters: [Parameter]) throws {
        communicationSeconds += try sumGradients(parameters, over: communicator, scale: 1 / Float(communicator.size))
    }

    /// Stops with an error when the processes' weights differ (they must stay identical).
    func checkWeightsAgree(step: Int) throws {
        var sum = 0.0, squares = 0.0
        for (_, p) in model.parameters() { for v in p.value.scalars { sum += Double(v); squares += Double(v) * Double(v) } }
        let low = try communicator.minimum([sum, squares]), high = try communicator.maximum([sum, squares])
        guard low == high else {
            throw TrainingFailure(message: "the weights of the \(communicator.size) processes differ at step \(step) "
                + "(checksums \(low[0])…\(high[0])); stopping: the run is no longer one model")
        }
    }

    /// Whether any process was asked to stop (all must stop at the same step).
    func anyShouldStop(_ local: Bool) throws -> Bool {
        communicator.size == 1 ? local : try communicator.maximum([local ? 1 : 0])[0] > 0
    }

    /// `ECDP_FAULT_RANK=r ECDP_FAULT_STEP=s`: process r fails at step s (tests that one
    /// failing process stops the run everywhere).
    func injectedFault(step: Int) throws {
        let env = ProcessInfo.processInfo.environment
        guard let rank = env["ECDP_FAULT_RANK"].flatMap(Int.init), let at = env["ECDP_FAULT_STEP"].flatMap(Int.init),
              rank == communicator.rank, at == step else { return }
        throw TrainingFailure(message: "injected fault at step \(step) (ECDP_FAULT_RANK=\(rank), ECDP_FAULT_STEP=\(at))")
    }
}

/// Sums every parameter's gradient over the processes (one buffer, one allreduce, in
/// place) and multiplies by `scale`. Returns the seconds the allreduce took.
func sumGradients(_ parameters: [Parameter], over communicator: Communicator, scale: Float) throws -> Double {
    let counts = parameters.map(\.value.count)
    var flat = [Float](repeating: 0, count: counts.reduce(0, +))
    var offset = 0
    for (p, c) in zip(parameters, counts) {
        if let g = p.gradient { flat.replaceSubrange(offset..<offset + c, with: g.scalars) }
        offset += c
    }
    let started = DispatchTime.now().uptimeNanoseconds
    try flat.withUnsafeMutableBufferPointer { try communicator.sumInPlace($0) }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    offset = 0
    for (p, c) in zip(parameters, counts) {
        p.gradient = Tensor(scale == 1 ? Array(flat[offset..<offset + c]) : flat[offset..<offset + c].map { $0 * scale }, shape: p.value.shape)
        offset += c
    }
    return seconds
}

extension Tensor {
    /// The samples `range` of a batch `[N, …]` (a process's share, a micro-batch).
    func samples(_ range: Range<Int>) -> Tensor {
        slice(start: [range.lowerBound] + Array(repeating: 0, count: rank - 1), size: [range.count] + Array(shape.dropFirst()))
    }
}
