// The floating-point operations the network's products would take done directly: 2·M·N·K
// per matrix product and 2·N·Cout·Ho·Wo·Cin·kh·kw per convolution and per gradient of it
// (dX, dW), whatever algorithm runs them (a Winograd convolution does fewer). `ecdp bench`
// divides them by the time to give a rate comparable across engines and with sgemm's.
import Synchronization

public enum NominalFLOPs {
    private static let counted = Atomic<Int>(0)

    /// Operations counted since the last `reset`.
    public static var total: Int { counted.load(ordering: .relaxed) }

    public static func reset() { counted.store(0, ordering: .relaxed) }

    static func add(_ operations: Int) { counted.add(operations, ordering: .relaxed) }
}
