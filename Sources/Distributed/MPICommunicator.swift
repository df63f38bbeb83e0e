// Open MPI through dlopen: the handful of MPI calls a data-parallel run needs, looked up in
// libmpi at run time (Debian: openmpi-bin, libopenmpi-dev). Open MPI's MPI_COMM_WORLD,
// MPI_FLOAT, MPI_DOUBLE and MPI_SUM/MIN/MAX are addresses of its global objects
// (`ompi_mpi_comm_world`, …), so they are found with dlsym like the functions.
#if canImport(Glibc)
import Glibc
#endif
import Foundation

public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int

    typealias InitFunction = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32
    typealias CommQuery = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>) -> Int32
    typealias Allreduce = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, OpaquePointer?, OpaquePointer?, OpaquePointer?) -> Int32
    typealias Abort = @convention(c) (OpaquePointer?, Int32) -> Int32
    typealias Finalize = @convention(c) () -> Int32

    private let allreduce: Allreduce
    private let abortFunction: Abort
    private let finalize: Finalize
    private let world, float, double, sumOp, minOp, maxOp: OpaquePointer

    /// Whether this process was started by Open MPI's `mpirun` (its environment says so).
    public static var isLaunchedByMPI: Bool {
        ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil
    }

    /// Loads libmpi and joins the run started by `mpirun`.
    public init() throws {
        var handle: UnsafeMutableRawPointer?
        for name in ["libmpi.so.40", "libmpi.so"] where handle == nil {
            // RTLD_GLOBAL: Open MPI loads its own components, which link against libmpi's symbols.
            handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL)
        }
        guard let handle else {
            throw DistributedError("launched by mpirun, but libmpi cannot be loaded (\(String(cString: dlerror()))); install Open MPI: apt install openmpi-bin libopenmpi-dev")
        }
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let s = dlsym(handle, name) else { throw DistributedError("libmpi has no \(name): is it Open MPI?") }
            return s
        }
        let initialize = unsafeBitCast(try symbol("MPI_Init"), to: InitFunction.self)
        let commRank = unsafeBitCast(try symbol("MPI_Comm_rank"), to: CommQuery.self)
        let commSize = unsafeBitCast(try symbol("MPI_Comm_size"), to: CommQuery.self)
        allreduce = unsafeBitCast(try symbol("MPI_Allreduce"), to: Allreduce.self)
        abortFunction = unsafeBitCast(try symbol("MPI_Abort"), to: Abort.self)
        finalize = unsafeBitCast(try symbol("MPI_Finalize"), to: Finalize.self)
        world = OpaquePointer(try symbol("ompi_mpi_comm_world"))
        float = OpaquePointer(try symbol("ompi_mpi_float"))
        double = OpaquePointer(try symbol("ompi_mpi_double"))
        sumOp = OpaquePointer(try symbol("ompi_mpi_op_sum"))
        minOp = OpaquePointer(try symbol("ompi_mpi_op_min"))
        maxOp = OpaquePointer(try symbol("ompi_mpi_op_max"))
        guard initialize(nil, nil) == 0 else { throw DistributedError("MPI_Init failed") }
        var r: Int32 = 0, n: Int32 = 0
        _ = commRank(world, &r)
        _ = commSize(world, &n)
        rank = Int(r)
        size = Int(n)
    }

    deinit { _ = finalize() }

    public func sumInPlace(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        // MPI counts are Int32: large buffers go in chunks.
        let chunk = 1 << 28
        var start = 0
        while start < buffer.count {
            let n = min(chunk, buffer.count - start)
            let p = buffer.baseAddress! + start
            // MPI_IN_PLACE is (void *) 1 in Open MPI.
            guard allreduce(UnsafeRawPointer(bitPattern: 1), p, Int32(n), float, sumOp, world) == 0 else {
                throw DistributedError("MPI_Allreduce failed")
            }
            start += n
        }
    }

    func reduce(_ values: [Double], _ op: OpaquePointer) throws -> [Double] {
        var out = values
        let ok = values.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in allreduce(input.baseAddress, output.baseAddress, Int32(values.count), double, op, world) }
        }
        guard ok == 0 else { throw DistributedError("MPI_Allreduce failed") }
        return out
    }

    public func sum(_ values: [Double]) throws -> [Double] { try reduce(values, sumOp) }
    public func minimum(_ values: [Double]) throws -> [Double] { try reduce(values, minOp) }
    public func maximum(_ values: [Double]) throws -> [Double] { try reduce(values, maxOp) }

    public func abort(code: Int32) -> Never {
        _ = abortFunction(world, code)
        exit(code)
    }
}
