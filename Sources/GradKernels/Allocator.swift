// Process-wide allocation policy for tensor buffers.
//
// Every op returns a fresh buffer, and a training step frees megabytes of them at once.
// glibc then returns the top of the heap to the kernel (trim) or serves large requests
// with fresh mappings, and every 4 KiB page of the next step's buffers costs a page
// fault on first touch. Keeping freed memory in the heap makes steady-state steps
// allocation-free at the OS level. The CLI calls `configureForTraining()` once at start.
import CMalloc
import Foundation

public enum Allocator {
    /// Raises glibc's trim and mmap thresholds so freed tensor memory is reused.
    public static func configureForTraining() {
        #if canImport(Glibc) || os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 512 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
        _ = mallopt(M_TOP_PAD, 64 << 20)
        #endif
    }

    /// Returns freed heap memory to the system (for memory measurements).
    public static func releaseFreeMemory() {
        Workspace.releaseIdle()
        _ = malloc_trim(0)
    }

    /// Current and peak resident set size in MiB (Linux /proc/self/status).
    public static func residentMemory() -> (current: Double, peak: Double) {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (.nan, .nan) }
        func field(_ name: String) -> Double {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name) }),
                  let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap({ Double($0) }) else { return .nan }
            return kb / 1024
        }
        return (field("VmRSS:"), field("VmHWM:"))
    }

    /// Resets the peak resident set size to the current one (Linux ≥ 4.0).
    public static func resetPeakMemory() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }
}
