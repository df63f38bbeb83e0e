// Parameters and the Module protocol: named, addressable parameters (paths such as
// `downs.0.conv1.weight`), train/eval mode, and loading a state dict by path.
import Grad

/// A trainable tensor. Modules read `value` in their forward; while a gradient is being
/// taken, `value` is temporarily the tape-watched version of itself.
public final class Parameter: @unchecked Sendable {
    public var value: Tensor
    /// Accumulated gradient (summed over backward passes until `zeroGradients()`).
    public var gradient: Tensor?

    public init(_ value: Tensor) { self.value = value }

    public var shape: [Int] { value.shape }
}

/// Errors from loading parameters by path.
public enum ParameterLoadError: Error, CustomStringConvertible, Equatable {
    case missing([String])
    case unexpected([String])
    case shapeMismatch(path: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .missing(let keys): return "missing parameters: \(keys.joined(separator: ", "))"
        case .unexpected(let keys): return "unexpected parameters: \(keys.joined(separator: ", "))"
        case .shapeMismatch(let p, let e, let f): return "parameter \(p): expected shape \(e), found \(f)"
        }
    }
}

/// A network component. Conformers list their own parameters and child modules by
/// name; everything else (paths, counts, loading, mode) comes from the extension.
public protocol Module: AnyObject {
    /// Parameters owned directly by this module, e.g. `("weight", w)`.
    var ownParameters: [(name: String, parameter: Parameter)] { get }
    /// Child modules, e.g. `("conv1", c)` or `("0", first)` for lists.
    var children: [(name: String, module: any Module)] { get }
    /// Train or eval mode for this module alone (see `setTraining`).
    var isTraining: Bool { get set }
}

extension Module {
    public var ownParameters: [(name: String, parameter: Parameter)] { [] }
    public var children: [(name: String, module: any Module)] { [] }

    /// All parameters, depth first, with dotted paths.
    public func parameters() -> [(path: String, parameter: Parameter)] {
        var out = ownParameters.map { (path: $0.name, parameter: $0.parameter) }
        for (name, child) in children {
            out += child.parameters().map { (path: "\(name).\($0.path)", parameter: $0.parameter) }
        }
        return out
    }

    /// The parameter at `path`, if any.
    public func parameter(at path: String) -> Parameter? {
        parameters().first { $0.path == path }?.parameter
    }

    /// Total number of scalar parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.parameter.value.count } }

    /// Sets train (true) or eval (false) mode on this module and all its descendants.
    public func setTraining(_ training: Bool) {
        isTraining = training
        for (_, c) in children { c.setTraining(training) }
    }

    /// Current values by path (a state dict).
    public func stateDict() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: parameters().map { ($0.path, $0.parameter.value) })
    }

    /// Replaces every parameter's value from `values`. Throws, changing nothing, when a
    /// key is missing, unexpected, or has the wrong shape.
    public func load(_ values: [String: Tensor]) throws {
        let params = parameters()
        let known = Set(params.map(\.path))
        let missing = params.map(\.path).filter { values[$0] == nil }
        if !missing.isEmpty { throw ParameterLoadError.missing(missing) }
        let extra = values.keys.filter { !known.contains($0) }.sorted()
        if !extra.isEmpty { throw ParameterLoadError.unexpected(extra) }
        for (path, p) in params where values[path]!.shape != p.shape {
            throw ParameterLoadError.shapeMismatch(path: path, expected: p.shape, found: values[path]!.shape)
        }
        for (path, p) in params { p.value = values[path]!.detached() }
    }

    /// Clears accumulated gradients.
    public func zeroGradients() {
        for (_, p) in parameters() { p.gradient = nil }
    }
}
