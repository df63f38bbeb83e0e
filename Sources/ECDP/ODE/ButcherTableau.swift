// Explicit Runge–Kutta methods as Butcher tableaus; one stepper runs them all.
import Grad

public struct ButcherTableau: Sendable, Equatable {
    public let name: String
    /// Lower-triangular stage coefficients a[i][j], j < i.
    public let a: [[Double]]
    public let b: [Double]
    public let c: [Double]
    /// Stage count.
    public var stages: Int { b.count }

    public static let euler = ButcherTableau(name: "euler", a: [[]], b: [1], c: [0])
    public static let heun = ButcherTableau(name: "heun", a: [[], [1]], b: [0.5, 0.5], c: [0, 1])
    public static let rk4 = ButcherTableau(name: "rk4", a: [[], [0.5], [0, 0.5], [0, 0, 1]],
                                           b: [1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6], c: [0, 0.5, 0.5, 1])

}
