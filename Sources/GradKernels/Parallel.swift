// Parallel loops over disjoint chunks. Chunk boundaries depend only on the problem
// size, never on the thread count, so reductions give the same bits with 1 or N threads.
import Dispatch
import Foundation
import Synchronization

public enum Parallel {
    private static let threadLimit = Atomic<Int>(ProcessInfo.processInfo.activeProcessorCount)

    /// A limit for the current task only (`withMaxThreads`), over the process-wide one.
    @TaskLocal static var taskThreadLimit: Int?

    /// Threads used by the engine's own loops (BLAS has its own setting, see `BLAS`).
    public static var maxThreads: Int { taskThreadLimit ?? threadLimit.load(ordering: .relaxed) }

    /// Sets the thread count of the engine's loops (process-wide; the CLI sets it once).
    public static func setMaxThreads(_ n: Int) { threadLimit.store(max(1, n), ordering: .relaxed) }

    /// Runs `body` with the engine's loops limited to `n` threads in this task (and the tasks it
    /// starts) only: code running concurrently elsewhere keeps the process-wide setting.
    public static func withMaxThreads<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
        try $taskThreadLimit.withValue(max(1, n)) { try body() }
    }

    /// Below this many elements of work a loop runs on the calling thread: waking a
    /// second core costs more than it saves.
    public static let minimumParallelWork = 1 << 15

    /// Calls `body(chunkIndex)` for `0..<chunks`, spread over up to `maxThreads` threads.
    /// `work` is the total amount of work (elements) to decide whether threads pay off.
    @inlinable
    public static func forEach(chunks: Int, work: Int, _ body: (Int) -> Void) {
        let threads = maxThreads
        if chunks <= 1 || threads <= 1 || work < minimumParallelWork {
            for i in 0..<chunks { body(i) }
            return
        }
        let workers = min(threads, chunks)
        let tuning = KernelTuning.scope
        withoutActuallyEscaping(body) { body in
            // The chunks touch disjoint memory (the caller's contract), so sharing the
            // closure across the workers is safe even though it captures raw pointers.
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                // Static, contiguous assignment of chunks to workers, under the caller's
                // kernel tuning (worker threads do not inherit task-local values).
                let lo = chunks * w / workers, hi = chunks * (w + 1) / workers
                KernelTuning.inScope(tuning) {
                    for i in lo..<hi { shared.value(i) }
                }
            }
        }
    }

    /// Splits `0..<count` into ranges of at most `grain` elements and runs `body` on each.
    @inlinable
    public static func forRanges(count: Int, grain: Int = 1 << 14, _ body: (Range<Int>) -> Void) {
        let chunks = (count + grain - 1) / grain
        forEach(chunks: chunks, work: count) { c in
            body(c * grain ..< min(count, (c + 1) * grain))
        }
    }
}

/// Wraps a value the compiler cannot prove Sendable; see the call sites for why it is.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
