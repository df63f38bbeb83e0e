// The tape's contract: accumulation, no-grad scopes, vjp, broadcasting reduction, and
// memory returning to baseline once a step's tensors are gone.
import Grad
import Testing

@Suite("Tape")
struct TapeTests {
    @Test func gradientsAccumulateOverUses() {
        let x = Tensor([1, 2, 3], shape: [3])
        // f = Σ x·x + 3x → df/dx = 2x + 3
        let g = gradient(at: x) { ($0 * $0 + $0 * 3).sum() }
        #expect(g.scalars == [5, 7, 9])
    }

    @Test func broadcastGradientIsReducedToInputShape() {
        let x = Tensor.ones([2, 3]), b = Tensor([1, 2, 3], shape: [3])
        let r = valueWithGradient(at: [x, b]) { ($0[0] * $0[1]).sum() }
        #expect(r.value.item == 12)
        #expect(r.gradients[1].shape == [3])
        #expect(r.gradients[1].scalars == [2, 2, 2])
        #expect(r.gradients[0].scalars == [1, 2, 3, 1, 2, 3])
    }

    @Test func noGradScopeRecordsNothing() {
        let tape = Tape()
        let x = tape.watch(Tensor.ones([4]))
        let y = withoutDerivatives { (x * 2).exp() }
        #expect(!y.isTracked)
        #expect(tape.operationCount == 0)
        let z = x * 2
        #expect(z.isTracked && tape.operationCount == 1)
    }

    @Test func untrackedInputsRecordNothing() {
        let x = Tensor.ones([4])
        let y = (x * 3).silu()
        #expect(!y.isTracked)
    }

    @Test func vjpMatchesExplicitJacobian() {
        // f(x) = A·x, so vjp(r) = Aᵀ r.
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let x = Tensor([1, 0, -1], shape: [3, 1])
        let r = Tensor([1, -2], shape: [2, 1])
        let out = vjp(at: [x], cotangent: r) { Tensor.matmul(a, $0[0]) }
        #expect(out.value.scalars == [-2, -2])
        #expect(out.gradients[0].scalars == [-7, -8, -9])
    }

    @Test func unusedInputGetsZeros() {
        let r = valueWithGradient(at: [Tensor.ones([2]), Tensor.ones([3])]) { $0[0].sum() }
        #expect(r.gradients[1].scalars == [0, 0, 0])
    }

    @Test func memoryReturnsToBaselineAfterBackward() {
        let w = randn([8, 4, 3, 3], seed: 1), x = randn([2, 4, 9, 9], seed: 2)
        func step() {
            let r = valueWithGradient(at: [w]) { ws in
                Tensor.conv2d(x, weight: ws[0], bias: nil, padding: 1).silu().squared().mean()
            }
            #expect(r.gradients[0].shape == w.shape)
        }
        // Count only this test's storages: other tests allocate concurrently.
        let scope = AllocationScope()
        scope.measure {
            step()
            #expect(scope.liveBytes == 0)
            for _ in 0..<5 { step() }
        }
        #expect(scope.liveBytes == 0)
    }
}

@Suite("Random")
struct RandomTests {
    @Test func seedsReproduceAndStatesResume() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
        let saved = a.stateWords
        let next = a.next()
        var restored = RandomGenerator(stateWords: saved)
        #expect(restored.next() == next)
    }

    @Test func splitStreamsDiffer() {
        var parent = RandomGenerator(seed: 1)
        var c1 = parent.split(), c2 = parent.split()
        #expect(c1.next() != c2.next())
    }

    @Test func normalMomentsAreStandard() {
        var rng = RandomGenerator(seed: 3)
        let x = Tensor.randomNormal([200_000], using: &rng).scalars.map(Double.init)
        let mean = x.reduce(0, +) / Double(x.count)
        let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)
        // Standard errors: 1/√n ≈ 0.0022 for the mean, √(2/n) ≈ 0.0032 for the variance.
        #expect(Swift.abs(mean) < 0.01)
        #expect(Swift.abs(variance - 1) < 0.015)
        var u = RandomGenerator(seed: 4)
        let uniform = Tensor.randomUniform([100_000], lo: -1, hi: 1, using: &u).scalars
        #expect(uniform.allSatisfy { $0 >= -1 && $0 < 1 })
        #expect(Swift.abs(uniform.reduce(0, +) / 100_000) < 0.01)
    }
}
