// Linear warmup then multiplicative step decay at epoch milestones (the official ECDP
// schedule, docs/design.md §8): factor = min(step + 1, warmup)/warmup · γ^(#milestones ≤ epoch).

public struct WarmupStepSchedule: Sendable, Equatable {
    public var warmupSteps: Int
    public var milestones: [Int]
    public var decay: Float

    public init(warmupSteps: Int, milestones: [Int] = [], decay: Float = 0.5) {
        precondition(warmupSteps >= 1, "warmup must be at least 1 step")
        self.warmupSteps = warmupSteps
        self.milestones = milestones
        self.decay = decay
    }

    /// The factor multiplying each group's base learning rate at `step` (0-based) in `epoch`.
    public func factor(step: Int, epoch: Int) -> Float {
        let warm = Float(min(step + 1, warmupSteps)) / Float(warmupSteps)
        let passed = milestones.filter { $0 <= epoch }.count
        var d: Float = 1
        for _ in 0..<passed { d *= decay }
        return warm * d
    }
}
