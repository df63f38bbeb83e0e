// Reusable scratch buffers for kernels that need large temporaries (im2col columns).
// Freshly mapped memory costs a page fault per 4 KiB on first touch, which for a
// 38 MB column matrix took longer than the im2col itself; reusing buffers avoids it.
import Synchronization

public enum Workspace {
    private struct Buffer: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Float>
        let capacity: Int
    }

    /// Idle buffers, at most `maxIdle`, kept for the next caller.
    private static let idle = Mutex<[Buffer]>([])
    private static let maxIdle = 4

    /// Runs `body` with a scratch buffer of at least `count` floats (contents undefined).
    public static func withBuffer<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let buffer = idle.withLock { list -> Buffer? in
            // Smallest idle buffer that fits.
            guard let i = list.indices.filter({ list[$0].capacity >= count })
                    .min(by: { list[$0].capacity < list[$1].capacity }) else { return nil }
            return list.remove(at: i)
        } ?? Buffer(pointer: .allocate(capacity: max(count, 1)), capacity: max(count, 1))
        defer {
            let evicted = idle.withLock { list -> Buffer? in
                list.append(buffer)
                guard list.count > maxIdle else { return nil }
                let i = list.indices.min { list[$0].capacity < list[$1].capacity }!
                return list.remove(at: i)
            }
            evicted?.pointer.deallocate()
        }
        return try body(buffer.pointer)
    }

    /// Frees every idle buffer (e.g. after inference on a very large image).
    public static func releaseIdle() {
        let all = idle.withLock { list -> [Buffer] in defer { list.removeAll() }; return list }
        for b in all { b.pointer.deallocate() }
    }
}
