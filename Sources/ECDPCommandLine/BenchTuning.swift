// Kernel tunings in `ecdp bench`: `--tune` sets a kernel threshold for the whole
// measurement, `--variant` times a second setting against it in the same process, the
// two run alternately round by round. On a shared machine separate runs drift by more
// than the 5–20 % a threshold decides (docs/performance.md), interleaved ones do not.
import ArgumentParser
import Foundation
import GradKernels

struct TuningOptions: ParsableArguments {
    @Option(name: .customLong("tune"), parsing: .singleValue,
            help: "A kernel setting for every run, name=value (repeatable; 'ecdp bench tuning' lists them).")
    var tune: [String] = []

    @Option(name: .customLong("variant"), parsing: .singleValue,
            help: "A kernel setting to time against the base, interleaved round by round in this process (repeatable).")
    var variant: [String] = []

    /// The base setting: the process's (the defaults, or `ECDP_KERNEL_TUNING`) with `--tune`.
    func base() throws -> KernelTuning {
        do { return try KernelTuning.current.applying(tune) } catch { throw ValidationError("--tune: \(error)") }
    }

    /// The settings to time: the base, and the base with `--variant` if given.
    func arms() throws -> [KernelTuning] {
        let base = try base()
        guard !variant.isEmpty else { return [base] }
        do { return [base, try base.applying(variant)] } catch { throw ValidationError("--variant: \(error)") }
    }

    func validate() throws { _ = try arms() }

    /// The JSON fields naming the settings: `tuning` (what differs from the defaults) and,
    /// with a variant, `variant`.
    func describe(_ arms: [KernelTuning]) -> [(String, Any)] {
        var fields: [(String, Any)] = [("tuning", arms[0].assignments(differingFrom: KernelTuning()).joined(separator: ","))]
        if arms.count > 1 { fields.append(("variant", arms[1].assignments(differingFrom: arms[0]).joined(separator: ","))) }
        return fields
    }
}

/// The wall times in milliseconds of each of `arms`, run alternately after `warmup`
/// rounds; the order flips every round (A B, B A, …) so neither arm always runs second.
/// `times[arm][round]`.
func interleavedMilliseconds(warmup: Int = 3, repetitions: Int, arms: [() -> Void]) -> [[Double]] {
    for _ in 0..<warmup { for arm in arms { arm() } }
    var times = Array(repeating: [Double](), count: arms.count)
    for round in 0..<repetitions {
        let order = round % 2 == 0 ? Array(arms.indices) : arms.indices.reversed()
        for i in order {
            let t0 = DispatchTime.now().uptimeNanoseconds
            arms[i]()
            times[i].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
    }
    return times
}

/// `interleavedMilliseconds` of one `body`, run under each of `settings` in turn.
func interleavedMilliseconds(warmup: Int = 3, repetitions: Int, settings: [KernelTuning],
                             _ body: @escaping () -> Void) -> [[Double]] {
    interleavedMilliseconds(warmup: warmup, repetitions: repetitions,
                            arms: settings.map { setting in { KernelTuning.with(setting, body) } })
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted(), n = s.count
    guard n > 0 else { return .nan }
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
}

/// The JSON fields of one measurement over the arms (`times[arm][round]`): `key`, the
/// base's median; with a variant also `variant_key` (its median), `variant_key_ratio`
/// (the median of the per-round ratios variant / base: each pair ran back to back, so
/// the machine's drift cancels; < 1: the variant is faster) and `variant_key_faster`
/// (in how many of the rounds the variant was faster).
func armFields(_ key: String, _ times: [[Double]]) -> [(String, Any)] {
    var fields: [(String, Any)] = [(key, rounded(median(times[0])))]
    if times.count > 1 {
        let ratios = zip(times[1], times[0]).map { $0 / $1 }
        fields.append(("variant_\(key)", rounded(median(times[1]))))
        fields.append(("variant_\(key)_ratio", rounded(median(ratios))))
        fields.append(("variant_\(key)_faster", "\(ratios.filter { $0 < 1 }.count)/\(ratios.count)"))
    }
    return fields
}

extension Bench {
    struct Tuning: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tuning",
            abstract: "The kernel settings that --tune, --variant and ECDP_KERNEL_TUNING accept, with their defaults.")

        @Flag(help: "Print one JSON object.") var json = false

        func run() {
            let defaults = KernelTuning(), current = KernelTuning.current
            printResults(KernelTuning.names.map { ($0, defaults[$0]!) }, json: json)
            if current != defaults {
                let changed = current.assignments(differingFrom: defaults).joined(separator: ",")
                if json { printResults([("ECDP_KERNEL_TUNING", changed)], json: true) } else { print("in force (ECDP_KERNEL_TUNING): \(changed)") }
            }
        }
    }
}
