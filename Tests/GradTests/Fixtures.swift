// Loads the PyTorch reference values written by Tests/Fixtures/generate_grad_fixtures.py.
import Foundation
import Grad
import TestSupport

struct FixtureTensor: Decodable {
    let shape: [Int]
    let data: [Float]
    var tensor: Tensor { Tensor(data, shape: shape) }
}

struct FixtureCase: Decodable {
    let name: String
    let params: [String: FixtureValue]
    let inputs: [String: FixtureTensor]
    let outputs: [String: FixtureTensor]
}

enum FixtureValue: Decodable {
    case number(Double), text(String)
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .text(try c.decode(String.self)) }
    }
    var int: Int { if case .number(let d) = self { return Int(d) }; fatalError("not a number") }
    var float: Float { if case .number(let d) = self { return Float(d) }; fatalError("not a number") }
    var string: String { if case .text(let s) = self { return s }; fatalError("not a string") }
}

struct FixtureFile: Decodable {
    let torch: String
    let cases: [FixtureCase]
}

enum Fixtures {
    static func gradReference() throws -> [String: FixtureCase] {
        let file = try FixturePaths.decode(FixtureFile.self, from: "grad_reference.json")
        return Dictionary(uniqueKeysWithValues: file.cases.map { ($0.name, $0) })
    }
}

/// Largest |a − b| over all elements (shapes must match).
func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "shape \(a.shape) vs \(b.shape)")
    return zip(a.scalars, b.scalars).reduce(0) { max($0, Swift.abs($1.0 - $1.1)) }
}
