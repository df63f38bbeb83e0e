// Loads batches on a background thread, a few ahead, so the trainer never waits on
// decoding, cropping and degradation. Batches arrive in order; the first error stops
// the loader and is rethrown by `next()`. Dropping the prefetcher stops its thread.
import Foundation

public final class BatchPrefetcher: @unchecked Sendable {
    /// What the loader thread and the consumer share. The thread holds only this, never
    /// the prefetcher, so the prefetcher's deinit can stop it.
    private final class Channel: @unchecked Sendable {
        let condition = NSCondition()
        var queue: [Result<SRBatch, Error>] = []
        var stopped = false
    }

    private let channel = Channel()

    /// Starts loading at (`epoch`, `step`) and continues through the following epochs.
    public init(_ batches: TrainingBatches, startEpoch epoch: Int, step: Int, depth: Int = 3) {
        let channel = self.channel, depth = max(1, depth)
        let thread = Thread {
            var (e, s) = (epoch, step)
            while true {
                channel.condition.lock()
                while channel.queue.count >= depth && !channel.stopped { channel.condition.wait() }
                if channel.stopped { channel.condition.unlock(); return }
                channel.condition.unlock()
                let result = Result { try batches.batch(epoch: e, step: s) }
                channel.condition.lock()
                channel.queue.append(result)
                channel.condition.broadcast()
                channel.condition.unlock()
                if case .failure = result { return }
                s += 1
                if s == batches.batchesPerEpoch { s = 0; e += 1 }
            }
        }
        thread.name = "ecdp.data"
        thread.start()
    }

    /// The next batch, waiting for the loader if it is behind.
    public func next() throws -> SRBatch {
        channel.condition.lock()
        defer { channel.condition.unlock() }
        while channel.queue.isEmpty { channel.condition.wait() }
        let result = channel.queue.removeFirst()
        channel.condition.broadcast()
        return try result.get()
    }

    /// Stops the loader thread (also done on deinit).
    public func stop() {
        channel.condition.lock()
        channel.stopped = true
        channel.condition.broadcast()
        channel.condition.unlock()
    }

    deinit { stop() }
}
