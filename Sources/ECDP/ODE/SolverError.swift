// A solver that cannot go on, or a sampler spelled wrong: one line naming the problem.

public struct SolverError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
