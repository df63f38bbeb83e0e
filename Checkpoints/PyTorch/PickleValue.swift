// Values produced by the restricted unpickler: Python's plain data types plus the torch
// objects a state dict holds. Lists and dicts are classes because pickle mutates them
// after creation (APPENDS, SETITEMS) through memo references.
import Foundation

public final class PickleList: @unchecked Sendable {
    public var items: [PickleValue]
    /// The unpickler's bookkeeping (see `PickleShape`).
    var shape = PickleShape.leaf
    var isNested = false
    init(_ items: [PickleValue] = []) { self.items = items }
}

/// How deep a pickled value nests and how many objects it expands to when every shared
/// reference is followed (what flattening and printing it visit). The unpickler keeps
/// both under `ReadLimits`, so no later walk over the value can overflow the stack or run
/// for hours on a memo bomb.
struct PickleShape {
    var depth: Int
    var size: Int
    static let leaf = PickleShape(depth: 1, size: 1)

    /// A container holding `children`.
    static func container(_ children: [PickleShape]) -> PickleShape {
        var shape = PickleShape.leaf
        for c in children { shape.add(c) }
        return shape
    }

    mutating func add(_ child: PickleShape) {
        depth = max(depth, child.depth + 1)
        size = size.addingReportingOverflow(child.size).overflow ? .max : size + child.size
    }
}

/// An insertion-ordered dict (Python dicts and OrderedDict alike); keys may be any
/// hashable pickle value (optimizer states use ints).
public final class PickleDict: @unchecked Sendable {
    public var entries: [(key: PickleValue, value: PickleValue)] = []
    var shape = PickleShape.leaf
    var isNested = false
    /// Positions of string and integer keys, so that setting n keys is not O(n²).
    private var positions: [String: Int] = [:]
    init() {}

    func set(_ key: PickleValue, _ value: PickleValue) {
        let fastKey: String?
        switch key {
        case .string(let s): fastKey = "s" + s
        case .int(let i): fastKey = "i\(i)"
        default: fastKey = nil
        }
        if let fastKey {
            if let i = positions[fastKey] { entries[i].value = value } else { positions[fastKey] = entries.count; entries.append((key, value)) }
        } else if let i = entries.firstIndex(where: { $0.key == key }) {
            entries[i].value = value
        } else {
            entries.append((key, value))
        }
    }

    public subscript(key: String) -> PickleValue? { entries.first { $0.key == .string(key) }?.value }
}

/// A torch storage referenced by a persistent id: its element type, key and size.
public struct TorchStorageRef: Sendable, Equatable {
    public let dtype: DType
    public let key: String
    public let count: Int
}

public indirect enum PickleValue: @unchecked Sendable, Equatable, CustomStringConvertible {
    case none
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// A whitelisted global (a callable or a storage type), not yet applied.
    case global(module: String, name: String)
    case storage(TorchStorageRef)
    case tensor(RawTensor)
    /// An integer wider than 64 bits, as its little-endian two's-complement bytes.
    case bigInt([UInt8])
    /// A tensor whose storage bytes come later in the stream (legacy format), by slot.
    case pendingTensor(Int)

    public static func == (a: PickleValue, b: PickleValue) -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.float(x), .float(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.bytes(x), .bytes(y)): return x == y
        case let (.tuple(x), .tuple(y)): return x == y
        case let (.list(x), .list(y)): return x === y
        case let (.dict(x), .dict(y)): return x === y
        case let (.global(m1, n1), .global(m2, n2)): return m1 == m2 && n1 == n2
        case let (.storage(x), .storage(y)): return x == y
        case let (.tensor(x), .tensor(y)): return x == y
        case let (.bigInt(x), .bigInt(y)): return x == y
        case let (.pendingTensor(x), .pendingTensor(y)): return x == y
        default: return false
        }
    }

    /// A compact Python-like rendering, used for non-tensor entries in metadata.
    public var description: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return String(d)
        case .string(let s): return s
        case .bytes(let b): return "bytes(\(b.count))"
        case .tuple(let t): return "(" + t.map(\.description).joined(separator: ", ") + (t.count == 1 ? ",)" : ")")
        case .list(let l): return "[" + l.items.map(\.description).joined(separator: ", ") + "]"
        case .dict(let d): return "{" + d.entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        case .global(let m, let n): return "\(m).\(n)"
        case .storage(let s): return "storage(\(s.dtype.rawValue), \(s.count))"
        case .tensor(let t): return "tensor(\(t.dtype.rawValue), \(t.shape))"
        case .bigInt(let b): return "int(0x" + b.reversed().map { String(format: "%02x", $0) }.joined() + ")"
        case .pendingTensor(let slot): return "tensor(#\(slot))"
        }
    }
}
