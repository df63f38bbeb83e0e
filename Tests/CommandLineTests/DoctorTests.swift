// `ecdp doctor`: passes on this machine, and each check made to fail says what is wrong and
// what to do (the CPU and the speed from injected readings, the folder from a real file).
import Foundation
import TestSupport
import Testing
@testable import ECDPCommandLine

struct DoctorTests {
    @Test func passesHereWithAnInjectedSpeed() throws {
        let folder = try FixturePaths.temporaryDirectory().path
        var checks = DoctorChecks(runFolder: folder)
        checks.speedProbe = { 0.5 }
        let results = checks.all()
        #expect(results.map(\.name) == ["cpu", "blas", "libraries", "gradients", "adjoint", "speed", "run folder"])
        #expect(!results.contains { $0.status == .fail }, "\(results.filter { $0.status == .fail })")
        #expect(results.first { $0.name == "libraries" }!.detail.contains("HDF5 1."))
    }

    @Test func aCPUWithoutTheBuildsInstructionsFailsAndSaysHowToRebuild() {
        let checks = DoctorChecks(runFolder: ".", cpuInfo: "vendor_id\t: GenuineIntel\nmodel name\t: Old Xeon\nflags\t\t: fpu sse sse2 avx\n",
                                  requiredFlags: ["avx2", "fma"])
        let cpu = checks.cpu()
        #expect(cpu.status == .fail && cpu.detail.contains("Old Xeon") && cpu.detail.contains("lacks AVX2, FMA"))
        #expect(cpu.advice == "rebuild for any x86-64 CPU: ECDP_TARGET_CPU=generic make build")
        #expect(CPUFeatures.problem(cpuInfo: "flags : avx2 fma", required: ["avx2", "fma"]) == nil)
    }

    @Test func aSlowStepIsReportedNotFailed() {
        var checks = DoctorChecks(runFolder: ".")
        checks.speedProbe = { 5.0 }
        let speed = checks.speed()
        #expect(speed.status == .warn && speed.detail.contains("5.000 s") && speed.advice!.contains("release build"))
    }

    @Test func aRunFolderThatIsAFileFails() throws {
        let file = try FixturePaths.temporaryDirectory().appendingPathComponent("f").path
        FileManager.default.createFile(atPath: file, contents: Data())
        let result = DoctorChecks(runFolder: file).folder()
        #expect(result.status == .fail && result.detail.contains("is a file"))
    }
}
