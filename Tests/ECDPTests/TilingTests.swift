// Tiled sampling from one global noise field agrees with whole-image sampling up to a
// stated tolerance, and blending across an overlap beats butting tiles together.
@testable import ECDP
import Grad
import Testing

@Suite("Tiling")
struct TilingTests {
    @Test func tiledMatchesWholeImage() throws {
        let model = ECDPModel(config: micro, seed: 21)
        var rng = RandomGenerator(seed: 22)
        // Perturb the (mostly tiny-initialised) weights so the network's output matters.
        for (_, p) in model.parameters() { p.value = p.value + Tensor.randomNormal(p.shape, std: 0.05, using: &rng) }
        let lr = Tensor.randomUniform([1, 3, 12, 12], using: &rng)
        let xT = Tensor.randomNormal([1, 3, 48, 48], using: &rng)
        let sampler = Sampler.ddim(steps: 4)
        let whole = try model.superResolve(lr, startingNoise: xT, sampler: sampler, using: &rng).image
        let blended = try model.superResolve(lr, startingNoise: xT, sampler: sampler, tiling: Tiling(tile: 8, overlap: 4), using: &rng).image
        let butted = try model.superResolve(lr, startingNoise: xT, sampler: sampler, tiling: Tiling(tile: 6, overlap: 0), using: &rng).image
        func meanAbs(_ a: Tensor, _ b: Tensor) -> Float { zip(a.scalars, b.scalars).map { abs($0 - $1) }.reduce(0, +) / Float(a.count) }
        let spread = meanAbs(whole, model.image(residual: Tensor.zeros(xT.shape), lr: lr))
        print("tiling: mean |tiled − whole| \(meanAbs(blended, whole)) (overlap 4), \(meanAbs(butted, whole)) (no overlap); output spread \(spread)")
        #expect(blended.shape == whole.shape)
        // Measured: blended 0.0096, butted 0.035, against an output spread of 0.117 (mean |image − μ|):
        // blending stays within 12% of the spread and beats butting by more than 2×.
        #expect(meanAbs(blended, whole) < 0.12 * spread)
        #expect(meanAbs(butted, whole) > 2 * meanAbs(blended, whole))
        // One tile covering the image is the whole-image result.
        let single = try model.superResolve(lr, startingNoise: xT, sampler: sampler, tiling: Tiling(tile: 12, overlap: 2), using: &rng).image
        let worst = zip(single.scalars, whole.scalars).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-6, "single tile vs whole: \(worst)")
    }

    @Test func tileOriginsCoverTheImage() {
        #expect(TiledSuperResolution.origins(length: 10, tile: 4, overlap: 1) == [0, 3, 6])
        #expect(TiledSuperResolution.origins(length: 4, tile: 8, overlap: 2) == [0])
        #expect(TiledSuperResolution.weight(0, 8, ramp: 4) == 0.125 && TiledSuperResolution.weight(4, 8, ramp: 4) == 0.875)
    }

    /// x̃_T of one size fitted to other sizes: every policy crops for a smaller output; for a
    /// larger one, periodic repeats it, random-fill keeps it in the corner, tiled starts every
    /// tile from it.
    @Test func boundaryConditionPolicies() throws {
        let model = ECDPModel(config: micro, seed: 23)
        var rng = RandomGenerator(seed: 24)
        for (_, p) in model.parameters() { p.value = p.value + Tensor.randomNormal(p.shape, std: 0.05, using: &rng) }
        let xT = Tensor.randomNormal([1, 3, 16, 16], using: &rng)
        let sampler = Sampler.ddim(steps: 3)
        func run(_ lr: Tensor, _ policy: StartingNoisePolicy, overlap: Int = 0) throws -> Tensor {
            var r = RandomGenerator(seed: 9)
            return try model.superResolve(lr, boundaryCondition: xT, policy: policy, overlap: overlap, sampler: sampler, scale: 4, using: &r).image
        }
        func direct(_ lr: Tensor, _ noise: Tensor) throws -> Tensor {
            var r = RandomGenerator(seed: 9)
            return try model.superResolve(lr, startingNoise: noise, sampler: sampler, using: &r).image
        }
        // Smaller (12×8 output): all three are x̃_T's top-left crop.
        let small = Tensor.randomUniform([1, 3, 3, 2], using: &rng)
        let crop = try direct(small, xT.slice(start: [0, 0, 0, 0], size: [1, 3, 12, 8]))
        for policy in StartingNoisePolicy.allCases { #expect(try run(small, policy).scalars == crop.scalars, "\(policy)") }

        // Larger (32×16 output).
        let large = Tensor.randomUniform([1, 3, 8, 4], using: &rng)
        #expect(try run(large, .periodic).scalars == (try direct(large, Tensor.concatenate([xT, xT], axis: 2))).scalars)
        var fill = RandomGenerator(seed: 9)
        var field = Tensor.randomNormal([1, 3, 32, 16], using: &fill).scalars
        for c in 0..<3 { for y in 0..<16 { for x in 0..<16 { field[(c * 32 + y) * 16 + x] = xT.scalars[(c * 16 + y) * 16 + x] } } }
        var fillRNG = fill
        let filled = try model.superResolve(large, startingNoise: Tensor(field, shape: [1, 3, 32, 16]), sampler: sampler, using: &fillRNG).image
        #expect(try run(large, .randomFill).scalars == filled.scalars)
        // Tiled without overlap: each 16×16 half is its own super-resolution from x̃_T.
        let halves = try [0, 4].map { y in try direct(large.slice(start: [0, 0, y, 0], size: [1, 3, 4, 4]), xT) }
        let tiled = try run(large, .tiled)
        #expect(zip(tiled.scalars, Tensor.concatenate(halves, axis: 2).scalars).allSatisfy { abs($0 - $1) < 1e-6 })
    }
}
