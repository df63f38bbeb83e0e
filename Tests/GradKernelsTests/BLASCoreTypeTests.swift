// The OpenBLAS kernel-set override chosen from /proc/cpuinfo (see BLAS.recommendedCoreType).
import GradKernels
import Testing

private func cpuInfo(vendor: String, family: Int, flags: String) -> String {
    "processor\t: 0\nvendor_id\t: \(vendor)\ncpu family\t: \(family)\nflags\t\t: \(flags)\n\nprocessor\t: 1\nvendor_id\t: other\n"
}

@Suite("OpenBLAS core type")
struct BLASCoreTypeTests {
    let avx512 = "fpu sse sse2 avx avx2 fma avx512f avx512dq avx512bw avx512vl"

    @Test func newIntelCPUWithGenericFallbackGetsAVX512Kernels() {
        let info = cpuInfo(vendor: "GenuineIntel", family: 6, flags: avx512 + " avx512_bf16")
        #expect(BLAS.recommendedCoreType(cpuInfo: info, current: "Prescott") == "Cooperlake")
        #expect(BLAS.recommendedCoreType(cpuInfo: info, current: "Cooperlake") == nil)
        #expect(BLAS.recommendedCoreType(cpuInfo: info, current: "SapphireRapids") == nil)
        let noBF16 = cpuInfo(vendor: "GenuineIntel", family: 6, flags: avx512)
        #expect(BLAS.recommendedCoreType(cpuInfo: noBF16, current: "Prescott") == "SkylakeX")
        #expect(BLAS.recommendedCoreType(cpuInfo: noBF16, current: "Haswell") == "SkylakeX")
    }

    @Test func avx2OnlyCPUGetsHaswellUnlessAlreadyThere() {
        let info = cpuInfo(vendor: "GenuineIntel", family: 6, flags: "sse sse2 avx avx2 fma")
        #expect(BLAS.recommendedCoreType(cpuInfo: info, current: "Nehalem") == "Haswell")
        #expect(BLAS.recommendedCoreType(cpuInfo: info, current: "Haswell") == nil)
    }

    @Test func zen4GetsZenKernels() {
        let info = cpuInfo(vendor: "AuthenticAMD", family: 25, flags: avx512 + " avx512_bf16")
        #expect(BLAS.recommendedCoreType(cpuInfo: info, current: "Cooperlake") == "Zen")
        #expect(BLAS.recommendedCoreType(cpuInfo: info, current: "Zen") == nil)
    }

    @Test func oldOrUnreadableCPUKeepsOpenBLASChoice() {
        #expect(BLAS.recommendedCoreType(cpuInfo: nil, current: "Prescott") == nil)
        let old = cpuInfo(vendor: "GenuineIntel", family: 6, flags: "sse sse2 sse3")
        #expect(BLAS.recommendedCoreType(cpuInfo: old, current: "Prescott") == nil)
    }
}
