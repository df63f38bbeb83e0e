// Process-wide allocation policy for tensor buffers.
//
// Every op returns a fresh buffer, and a training step frees megabytes of them at once.
// glibc then returns the top of the heap to the kernel (trim) or serves large requests
// with fresh mappings, and every 4 KiB page of the next step's buffers costs a page
// fault on first touch. Keeping freed memory in the heap makes steady-state steps
// allocation-free at the OS level. The CLI calls `configureForTraining()` once at start.
import CMalloc

public enum Allocator {
    /// Raises glibc's trim and mmap thresholds so freed tensor memory is reused.
    public static func configureForTraining() {
        #if canImport(Glibc) || os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 512 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
        _ = mallopt(M_TOP_PAD, 64 << 20)
        #endif
    }
}
