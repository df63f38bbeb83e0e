// The thresholds that choose between the convolution's kernel paths (im2col bands, the
// whole-batch column matrix, Winograd F(2×2) and F(4×4)) and size their work. Each path is
// tested on its own, so a tuning changes speed and, within each path's tested error
// bound, the rounding of the results — never what is computed. The defaults were
// measured on the project's machines (docs/performance.md); `ecdp bench conv --variant`
// and `ecdp bench train --variant` time another setting against them in one process.
//
// The setting in force is the innermost `KernelTuning.with` of the current task (and of
// the parallel loops it starts, see `Parallel.forEach`), else the process-wide one.
import Foundation

public struct KernelTuning: Sendable, Equatable {
    /// Target size of one band's scratch (im2col columns, or Winograd's V and M) in floats.
    public var bandFloats = 1 << 19
    /// Lower bound on the bands of one convolution, so that small maps use every core.
    public var minimumBands = 4
    /// im2col copies rows of outputs narrower than this through a zero-padded plane.
    public var narrowWidth = 32
    /// Largest column matrix of the whole batch (floats) for the whole-batch path.
    public var wholeBatchFloats = 1 << 21
    /// The whole-batch path needs a band to be at most Cout / this many pixels wide.
    public var wholeBatchChannelsPerBandPixel = 4
    /// Winograd needs at least this many output pixels (over all images) …
    public var winogradMinimumPixels = 256
    /// … and pixels × max(Cin, Cout) of at least this …
    public var winogradMinimumWork = 1 << 16
    /// … or of `winogradMinimumWorkOnManyPixels` from this many pixels on.
    public var winogradManyPixels = 1024
    public var winogradMinimumWorkOnManyPixels = 1 << 14
    /// F(4×4) instead of F(2×2) on output maps at least this wide and high.
    public var winogradF4MinimumSide = 8

    public init() {}

    /// The settings by the names `parse` accepts, in declaration order.
    public static let names = [
        "band_floats", "minimum_bands", "narrow_width", "whole_batch_floats",
        "whole_batch_channels_per_band_pixel", "winograd_minimum_pixels", "winograd_minimum_work",
        "winograd_many_pixels", "winograd_minimum_work_on_many_pixels", "winograd_f4_minimum_side",
    ]

    /// The value of the setting called `name` (one of `names`).
    public subscript(name: String) -> Int? {
        get {
            switch name {
            case "band_floats": bandFloats
            case "minimum_bands": minimumBands
            case "narrow_width": narrowWidth
            case "whole_batch_floats": wholeBatchFloats
            case "whole_batch_channels_per_band_pixel": wholeBatchChannelsPerBandPixel
            case "winograd_minimum_pixels": winogradMinimumPixels
            case "winograd_minimum_work": winogradMinimumWork
            case "winograd_many_pixels": winogradManyPixels
            case "winograd_minimum_work_on_many_pixels": winogradMinimumWorkOnManyPixels
            case "winograd_f4_minimum_side": winogradF4MinimumSide
            default: nil
            }
        }
        set {
            guard let newValue else { return }
            switch name {
            case "band_floats": bandFloats = newValue
            case "minimum_bands": minimumBands = newValue
            case "narrow_width": narrowWidth = newValue
            case "whole_batch_floats": wholeBatchFloats = newValue
            case "whole_batch_channels_per_band_pixel": wholeBatchChannelsPerBandPixel = newValue
            case "winograd_minimum_pixels": winogradMinimumPixels = newValue
            case "winograd_minimum_work": winogradMinimumWork = newValue
            case "winograd_many_pixels": winogradManyPixels = newValue
            case "winograd_minimum_work_on_many_pixels": winogradMinimumWorkOnManyPixels = newValue
            case "winograd_f4_minimum_side": winogradF4MinimumSide = newValue
            default: break
            }
        }
    }

    /// This tuning with `assignments` ("name=value", e.g. "winograd_f4_minimum_side=16")
    /// applied in order. Values are integers ≥ 1 (suffixes k and M for 2¹⁰ and 2²⁰ allowed).
    public func applying(_ assignments: [String]) throws(KernelTuningError) -> KernelTuning {
        var result = self
        for assignment in assignments {
            let parts = assignment.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else { throw .malformed(assignment) }
            guard result[parts[0]] != nil else { throw .unknownName(parts[0]) }
            guard let value = Self.integer(parts[1]), value >= 1 else { throw .badValue(name: parts[0], value: parts[1]) }
            result[parts[0]] = value
        }
        return result
    }

    private static func integer(_ text: String) -> Int? {
        let units: [Character: Int] = ["k": 1 << 10, "K": 1 << 10, "M": 1 << 20]
        if let last = text.last, let unit = units[last] {
            return Int(text.dropLast()).flatMap { $0.multipliedReportingOverflow(by: unit).overflow ? nil : $0 * unit }
        }
        return Int(text)
    }

    /// "name=value" for every setting that differs from `base` (all of them with nil).
    public func assignments(differingFrom base: KernelTuning? = nil) -> [String] {
        Self.names.compactMap { name in
            let value = self[name]!
            return base.map { $0[name]! == value } == true ? nil : "\(name)=\(value)"
        }
    }

    // MARK: The setting in force

    // A lock and a variable rather than a `Mutex` in a static: with Swift 6.3 on Linux a
    // static `Mutex<KernelTuning>` read back all zeros in debug builds.
    private static let lock = NSLock()
    nonisolated(unsafe) private static var processWide = KernelTuning()
    @TaskLocal static var scoped: KernelTuning?

    /// The tuning the kernels use now.
    public static var current: KernelTuning {
        if let scoped { return scoped }
        lock.lock()
        defer { lock.unlock() }
        return processWide
    }

    /// Sets the process-wide tuning (the CLI sets it once, before any work).
    public static func setProcessWide(_ tuning: KernelTuning) {
        lock.lock()
        defer { lock.unlock() }
        processWide = tuning
    }

    /// Runs `body` with `tuning` in force in this task and the parallel loops it starts;
    /// code running concurrently elsewhere keeps its own.
    public static func with<R>(_ tuning: KernelTuning, _ body: () throws -> R) rethrows -> R {
        try $scoped.withValue(tuning) { try body() }
    }

    /// The scoped tuning of the calling task, for a parallel loop to hand to its workers
    /// (`inScope`), whose threads do not inherit task-local values.
    public static var scope: KernelTuning? { scoped }

    /// Runs `body` with `scope` (from `KernelTuning.scope` on the loop's caller) in force.
    public static func inScope<R>(_ scope: KernelTuning?, _ body: () throws -> R) rethrows -> R {
        guard let scope else { return try body() }
        return try $scoped.withValue(scope) { try body() }
    }
}

public enum KernelTuningError: Error, Equatable, CustomStringConvertible {
    case malformed(String), unknownName(String), badValue(name: String, value: String)

    public var description: String {
        switch self {
        case .malformed(let text): "kernel setting '\(text)' is not of the form name=value"
        case .unknownName(let name):
            "unknown kernel setting '\(name)'; the settings are \(KernelTuning.names.joined(separator: ", "))"
        case .badValue(let name, let value): "kernel setting \(name) needs an integer ≥ 1, got '\(value)'"
        }
    }
}
