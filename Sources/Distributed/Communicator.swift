// The processes of a data-parallel run and what they exchange (docs/distributed.md). One
// process is `SingleProcess`; under `mpirun`, `MPICommunicator` talks to Open MPI, loaded at
// run time, so the same binary builds and runs without MPI installed.
import Foundation

/// What the trainer needs from the processes of a run.
public protocol Communicator: AnyObject {
    /// This process's index, 0 ..< size; rank 0 writes checkpoints, logs and progress.
    var rank: Int { get }
    var size: Int { get }
    /// Sums `buffer` element-wise over all processes, in place.
    func sumInPlace(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// The element-wise sum, minimum and maximum of `values` over all processes.
    func sum(_ values: [Double]) throws -> [Double]
    func minimum(_ values: [Double]) throws -> [Double]
    func maximum(_ values: [Double]) throws -> [Double]
    /// Stops every process of the run (after this one's message was printed).
    func abort(code: Int32) -> Never
}

extension Communicator {
    public var isRoot: Bool { rank == 0 }
}

/// One process: every collective is the identity.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sumInPlace(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    public func sum(_ values: [Double]) throws -> [Double] { values }
    public func minimum(_ values: [Double]) throws -> [Double] { values }
    public func maximum(_ values: [Double]) throws -> [Double] { values }
    public func abort(code: Int32) -> Never { exit(code) }
}

public struct DistributedError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
