// Adjoint gradients through the probability-flow ODE agree with direct
// back-propagation through the same adaptive solver (micro model).
import ECDP
import Foundation
import Grad
import GradNN
import Testing

@Suite("Adjoint")
struct AdjointTests {
    @Test func adjointMatchesDirectBackpropagation() throws {
        let model = ECDPModel(config: micro, seed: 11)
        // Give the zero-initialised last convs some weight so every parameter matters.
        var rng = RandomGenerator(seed: 12)
        for (_, p) in model.parameters() { p.value = p.value + Tensor.randomNormal(p.shape, std: 0.02, using: &rng) }
        let lr = Tensor.randomUniform([1, 3, 1, 1], using: &rng)
        let feats = withoutDerivatives { model.rrdb(lr) }
        let y0 = Tensor.randomNormal([1, 3, 4, 4], using: &rng)
        let r = Tensor.randomNormal([1, 3, 4, 4], using: &rng)
        let params = model.unet.parameters().map(\.parameter)
        let tolerance = 1e-5
        let solver = DormandPrince(rtol: tolerance, atol: tolerance)
        let f: (Tensor, Double, Tensor) -> Tensor = { y, t, c in model.probabilityFlow(x: y, time: t, lrFeatures: c) }
        // Down to the stiff end fine-tuning integrates to.
        let (t0, t1) = (300.0, 0.1)

        let adjoint = try Adjoint.gradients(of: f, parameters: params, extra: feats, y0: y0, t0: t0, t1: t1,
                                            solver: solver, lossGradient: { _ in r })
        let direct = vjp(at: [y0, feats], parameters: params, cotangent: r) { ins in
            try! solver.integrate({ y, t in f(y, t, ins[1]) }, from: ins[0], t0: t0, t1: t1, jumpTimes: [t1]).y  // as the adjoint forward
        }
        func relative(_ a: [Tensor], _ b: [Tensor]) -> Double {
            // Nothing to compare, or mismatched lists, is a failure, not a zero error.
            guard !a.isEmpty, a.count == b.count, zip(a, b).allSatisfy({ $0.shape == $1.shape }) else { return .infinity }
            var num = 0.0, den = 0.0
            for (x, y) in zip(a, b) {
                for (u, v) in zip(x.scalars, y.scalars) { num += Double(u - v) * Double(u - v); den += Double(v) * Double(v) }
            }
            return (num / max(den, 1e-30)).squareRoot()
        }
        let eParams = relative(adjoint.parameters, direct.parameterGradients)
        let eY0 = relative([adjoint.initialState], [direct.inputGradients[0]])
        let eFeats = relative([adjoint.extra], [direct.inputGradients[1]])
        print("adjoint vs direct relative errors: parameters \(eParams), y0 \(eY0), features \(eFeats)")
        // Both are solves to the same tolerance; their gradients agree to a few hundred times it.
        #expect(eParams < 1000 * tolerance, "parameters: relative error \(eParams)")
        #expect(eY0 < 1000 * tolerance, "y0: relative error \(eY0)")
        #expect(eFeats < 1000 * tolerance, "features: relative error \(eFeats)")
        #expect(relative([adjoint.solution], [direct.value]) < 1e-5)
        #expect(relative([], []) == .infinity && relative([y0], [y0, y0]) == .infinity && relative([y0], [feats]) == .infinity)
        #expect(adjoint.backwardEvaluations > 0 && adjoint.forwardEvaluations > 0)
    }
}
