// A seedable, splittable random number generator with serializable state.
//
// The core is xoshiro256** (Blackman & Vigna), seeded through SplitMix64. Uniform
// floats use the top 24 bits; normal samples use the Box–Muller transform in Double on
// pairs of 53-bit uniforms (z0 = r·cos θ, z1 = r·sin θ, both used; for an odd count the
// last pair's sine is discarded). Same seed, same build → same bits.
import Foundation

public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
    /// The four state words; save them to resume a stream exactly.
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// Restores a generator from `stateWords` (as saved from `stateWords`).
    public init(stateWords: [UInt64]) {
        precondition(stateWords.count == 4, "RandomGenerator state has 4 words, got \(stateWords.count)")
        state = (stateWords[0], stateWords[1], stateWords[2], stateWords[3])
    }

    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    public static func == (a: Self, b: Self) -> Bool { a.stateWords == b.stateWords }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0; state.3 ^= state.1; state.1 ^= state.2; state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// An independent generator derived from this one's next output (this one advances).
    public mutating func split() -> RandomGenerator { RandomGenerator(seed: next()) }

    /// Uniform in [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func uniformFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in (0, 1] with 53 random bits.
    @inline(__always)
    mutating func uniformOpenDouble() -> Double { (Double(next() >> 11) + 1) * 0x1p-53 }

    /// Fills `buffer` with U[lo, hi).
    public mutating func fillUniform(_ buffer: UnsafeMutableBufferPointer<Float>, lo: Float = 0, hi: Float = 1) {
        for i in buffer.indices { buffer[i] = lo + (hi - lo) * uniformFloat() }
    }

    /// Fills `buffer` with N(mean, std²) by Box–Muller.
    public mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>, mean: Float = 0, std: Float = 1) {
        var i = 0
        let n = buffer.count
        while i < n {
            let r = (-2 * Foundation.log(uniformOpenDouble())).squareRoot()
            let theta = 2 * Double.pi * Double(next() >> 11) * 0x1p-53
            buffer[i] = mean + std * Float(r * Foundation.cos(theta))
            if i + 1 < n { buffer[i + 1] = mean + std * Float(r * Foundation.sin(theta)) }
            i += 2
        }
    }

    /// A uniform integer in `0..<upperBound` (unbiased, Lemire's method via the stdlib).
    public mutating func nextInt(below upperBound: Int) -> Int { Int.random(in: 0..<upperBound, using: &self) }
}
