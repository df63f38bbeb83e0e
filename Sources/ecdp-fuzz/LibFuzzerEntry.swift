// libFuzzer's entry point, compiled only into the instrumented build (`make fuzz` passes
// -D FUZZING -parse-as-library -sanitize=fuzzer,address); the target is chosen by
// ECDP_FUZZ_TARGET.
#if FUZZING
import Foundation

nonisolated(unsafe) private var selected: FuzzTarget?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    if selected == nil {
        let name = ProcessInfo.processInfo.environment["ECDP_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            fatalError("set ECDP_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        selected = target
    }
    selected!.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#endif
