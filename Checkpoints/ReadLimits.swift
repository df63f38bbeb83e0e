// What a reader of an untrusted file may allocate (docs/robustness.md): sizes read from a
// file are multiplied with overflow checks, and bytes a file does not store itself — a
// PyTorch view expanded over a small storage, an HDF5 dataset whose header claims more than
// its storage holds — are materialised only up to a fixed cap per file.
public enum ReadLimits {
    /// Bytes a file may expand into beyond what it stores (expanded or overlapping views,
    /// unwritten HDF5 datasets). Real checkpoints need none; 256 MiB leaves room for
    /// broadcast buffers and keeps a 1 KB crafted file from asking for terabytes.
    public static let expansionBytes = 256 << 20

    /// Nesting depth of pickled containers (torch state dicts and training checkpoints nest
    /// 3–8 deep).
    public static let pickleDepth = 100

    /// Objects a pickle may expand to with every shared reference followed (a VGG19 state
    /// dict has ~100, an optimizer state a few per parameter): bounds memo bombs that share
    /// one sub-object many times over, and every later walk over the result.
    public static let pickleObjects = 2_000_000

    /// The product of `factors`, or nil when it overflows or a factor is negative.
    public static func product(_ factors: [Int]) -> Int? {
        var result = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (p, overflow) = result.multipliedReportingOverflow(by: f)
            if overflow { return nil }
            result = p
        }
        return result
    }
}

/// The bytes a file has left to expand into (`ReadLimits.expansionBytes` at the start).
final class ExpansionBudget {
    private(set) var remaining = ReadLimits.expansionBytes

    /// Takes `bytes` beyond the stored ones, or throws naming `what`.
    func spend(_ bytes: Int, on what: @autoclosure () -> String, path: String) throws {
        guard bytes > 0 else { return }
        guard bytes <= remaining else {
            throw CheckpointError(path, "\(what()) would need \(bytes) bytes more than the file stores; "
                                  + "a reader materialises at most \(ReadLimits.expansionBytes >> 20) MiB of such data per file")
        }
        remaining -= bytes
    }
}
