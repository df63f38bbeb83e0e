// The instructions this build's kernels were compiled for, checked against the CPU before
// any kernel runs: a release build for AVX2+FMA stops with SIGILL on an older CPU, so the
// tool says so at startup instead (this file is compiled without -target-cpu).
import Foundation

enum CPUFeatures {
    /// /proc/cpuinfo flag names the kernels need.
    static var requiredByBuild: [String] {
        #if ECDP_KERNELS_HASWELL
        return ["avx2", "fma"]
        #else
        return []
        #endif
    }

    static func field(_ name: String, in cpuInfo: String?) -> String? {
        guard let cpuInfo else { return nil }
        let first = cpuInfo.components(separatedBy: "\n\n").first ?? ""
        return first.split(separator: "\n").first { $0.hasPrefix(name) }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// Why this CPU cannot run the build, and what to do; nil when it can (or it cannot be told).
    static func problem(cpuInfo: String?, required: [String] = requiredByBuild) -> (reason: String, advice: String)? {
        guard !required.isEmpty, let flags = field("flags", in: cpuInfo).map({ Set($0.split(separator: " ").map(String.init)) }) else {
            return nil
        }
        let missing = required.filter { !flags.contains($0) }
        guard !missing.isEmpty else { return nil }
        return ("this build's kernels need \(required.joined(separator: "+").uppercased()), and this CPU lacks "
                + missing.joined(separator: ", ").uppercased() + " (they would stop with SIGILL)",
                "rebuild for any x86-64 CPU: ECDP_TARGET_CPU=generic make build")
    }

    /// At startup: stop with a message instead of SIGILL later.
    static func checkAtStartup() {
        let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        if let problem = problem(cpuInfo: info) {
            FileHandle.standardError.write(Data("Error: \(problem.reason); \(problem.advice)\n".utf8))
            exit(1)
        }
    }
}
