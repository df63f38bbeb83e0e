// The buffer behind a tensor. 64-byte aligned for SIMD loads; live allocations are
// counted so tests can assert that a training step returns memory to baseline.
import Synchronization

public final class Storage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// The accounting scope active when this storage was made (tests use it).
    private let scope: AllocationScope?

    private static let live = Atomic<Int>(0)

    /// Storages made inside `AllocationScope.measure` are also counted by that scope,
    /// so a test can watch its own allocations while other tests run concurrently.
    @TaskLocal static var currentScope: AllocationScope?

    /// Bytes currently held by all storages in the process.
    public static var liveBytes: Int { live.load(ordering: .relaxed) }

    /// Uninitialized storage of `count` floats (the caller fills every element).
    public init(uninitializedCount count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        Storage.live.add(count * 4, ordering: .relaxed)
        scope = Storage.currentScope
        scope?.live.add(count * 4, ordering: .relaxed)
    }

    public convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    public convenience init(_ values: [Float]) {
        self.init(uninitializedCount: values.count)
        values.withUnsafeBufferPointer { pointer.initialize(from: $0.baseAddress!, count: values.count) }
    }

    public func copy() -> Storage {
        let s = Storage(uninitializedCount: count)
        s.pointer.initialize(from: pointer, count: count)
        return s
    }

    deinit {
        UnsafeMutableRawPointer(pointer).deallocate()
        Storage.live.subtract(count * 4, ordering: .relaxed)
        scope?.live.subtract(count * 4, ordering: .relaxed)
    }
}

/// Counts the bytes of the storages made inside `measure` (and still alive).
public final class AllocationScope: Sendable {
    fileprivate let live = Atomic<Int>(0)

    public init() {}

    /// Bytes of this scope's storages that are still alive.
    public var liveBytes: Int { live.load(ordering: .relaxed) }

    /// Runs `body` with this scope active on the current task.
    public func measure<R>(_ body: () throws -> R) rethrows -> R {
        try Storage.$currentScope.withValue(self) { try body() }
    }
}
