// A restricted pickle virtual machine: the opcodes of protocols 2–5 that torch.save
// emits for state dicts, and a whitelist of globals (OrderedDict, torch's tensor
// rebuild functions, storage types). It never imports or calls anything: an opcode or
// global outside the subset is an error that names it.
import Foundation

struct Unpickler {
    /// The stream, usually a memory-mapped file: only the bytes the VM reads are touched,
    /// so a legacy torch file's storages after the pickles are never read here.
    let data: Data
    let path: String
    /// Resolves a persistent id (torch's storage reference) to a value.
    let persistentLoad: (PickleValue) throws -> PickleValue
    /// Resolves a storage reference and a strided view to a contiguous tensor.
    let rebuildTensor: (TorchStorageRef, _ offset: Int, _ shape: [Int], _ strides: [Int]) throws -> PickleValue

    static let storageTypes: [String: DType] = [
        "FloatStorage": .float32, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
        "DoubleStorage": .float64, "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16,
        "CharStorage": .int8, "ByteStorage": .uint8, "BoolStorage": .bool,
    ]

    static let callables: Set<String> = [
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_parameter", "_codecs.encode", "builtins.set", "builtins.frozenset",
    ]

    private var position = 0
    private var stack: [PickleValue] = []
    /// The shape of each stack entry (lists and dicts keep theirs up to date themselves).
    private var shapes: [PickleShape] = []
    private var marks: [Int] = []
    private var memo: [Int: (value: PickleValue, shape: PickleShape)] = [:]

    init(data: Data, path: String, persistentLoad: @escaping (PickleValue) throws -> PickleValue,
         rebuildTensor: @escaping (TorchStorageRef, Int, [Int], [Int]) throws -> PickleValue) {
        self.data = data
        self.path = path
        self.persistentLoad = persistentLoad
        self.rebuildTensor = rebuildTensor
    }

    /// Runs from `start` to the STOP opcode; returns the value and the offset after STOP.
    mutating func load(from start: Int = 0) throws -> (PickleValue, Int) {
        position = start
        stack = []; shapes = []; marks = []; memo = [:]
        while true {
            let opcodeOffset = position
            let op = try byte()
            switch op {
            case 0x80: _ = try byte()                                    // PROTO
            case 0x95: _ = try take(8)                                   // FRAME
            case 0x2E:                                                   // STOP
                guard let v = stack.popLast() else { throw fail("STOP with an empty stack") }
                return (v, position)
            case 0x7D: push(.dict(PickleDict()))                 // EMPTY_DICT
            case 0x5D: push(.list(PickleList()))                 // EMPTY_LIST
            case 0x29: push(.tuple([]))                          // EMPTY_TUPLE
            case 0x28: marks.append(stack.count)                         // MARK
            case 0x4E: push(.none)                               // NONE
            case 0x88: push(.bool(true))                         // NEWTRUE
            case 0x89: push(.bool(false))                        // NEWFALSE
            case 0x4B: push(.int(Int64(try byte())))             // BININT1
            case 0x4D: push(.int(Int64(try littleEndian(2))))    // BININT2
            case 0x4A: push(.int(Int64(Int32(truncatingIfNeeded: try littleEndian(4)))))  // BININT
            case 0x8A: push(try long(Int(try byte())))           // LONG1
            case 0x8B: push(try long(Int(try littleEndian(4))))  // LONG4
            case 0x49:                                                   // INT (text)
                let line = try textLine()
                if line == "01" { push(.bool(true)) } else if line == "00" { push(.bool(false)) }
                else if let v = Int64(line) { push(.int(v)) } else { throw fail("bad INT \(line)") }
            case 0x47:                                                   // BINFLOAT (big-endian)
                let b = try take(8)
                push(.float(Double(bitPattern: b.reduce(0) { $0 << 8 | UInt64($1) })))
            case 0x58: push(.string(try utf8(Int(try littleEndian(4)))))   // BINUNICODE
            case 0x8C: push(.string(try utf8(Int(try byte()))))            // SHORT_BINUNICODE
            case 0x8D: push(.string(try utf8(try length8())))   // BINUNICODE8
            case 0x54: push(.string(try latin1(Int(try littleEndian(4)))))  // BINSTRING
            case 0x55: push(.string(try latin1(Int(try byte()))))          // SHORT_BINSTRING
            case 0x42: push(.bytes(try take(Int(try littleEndian(4)))))     // BINBYTES
            case 0x43: push(.bytes(try take(Int(try byte()))))             // SHORT_BINBYTES
            case 0x8E: push(.bytes(try take(try length8())))    // BINBYTES8
            case 0x74: try pushTuple(try popMarkEntries())                         // TUPLE
            case 0x85: try pushTuple(try popEntries(1))                            // TUPLE1
            case 0x86: try pushTuple(try popEntries(2))                            // TUPLE2
            case 0x87: try pushTuple(try popEntries(3))                            // TUPLE3
            case 0x71: memo[Int(try byte())] = try topEntry()                      // BINPUT
            case 0x72: memo[Int(try littleEndian(4))] = try topEntry()             // LONG_BINPUT
            case 0x94: memo[memo.count] = try topEntry()                           // MEMOIZE
            case 0x68: push(try recall(Int(try byte())))                           // BINGET
            case 0x6A: push(try recall(Int(try littleEndian(4))))                  // LONG_BINGET
            case 0x30: _ = try pop(1)                                              // POP
            case 0x31: _ = try popMarkEntries()                                    // POP_MARK
            case 0x32: push(try topEntry())                                        // DUP
            case 0x61:                                                             // APPEND
                let v = try popEntries(1)
                guard case .list(let l) = try top() else { throw fail("APPEND to a non-list") }
                try nest(v, into: l, shape: &l.shape, isNested: l.isNested)
                l.items.append(v[0].value)
            case 0x65:                                                             // APPENDS
                let items = try popMarkEntries()
                guard case .list(let l) = try top() else { throw fail("APPENDS to a non-list") }
                try nest(items, into: l, shape: &l.shape, isNested: l.isNested)
                l.items += items.map(\.value)
            case 0x73:                                                             // SETITEM
                let kv = try popEntries(2)
                guard case .dict(let d) = try top() else { throw fail("SETITEM on a non-dict") }
                try nest(kv, into: d, shape: &d.shape, isNested: d.isNested)
                d.set(kv[0].value, kv[1].value)
            case 0x75:                                                             // SETITEMS
                let items = try popMarkEntries()
                guard items.count % 2 == 0, case .dict(let d) = try top() else { throw fail("bad SETITEMS") }
                try nest(items, into: d, shape: &d.shape, isNested: d.isNested)
                for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i].value, items[i + 1].value) }
            case 0x63:                                                             // GLOBAL
                let module = try textLine(), name = try textLine()
                push(try global(module, name))
            case 0x93:                                                             // STACK_GLOBAL
                let mn = try pop(2)
                guard case .string(let module) = mn[0], case .string(let name) = mn[1] else { throw fail("bad STACK_GLOBAL") }
                push(try global(module, name))
            case 0x52:                                                             // REDUCE
                let fa = try pop(2)
                guard case .tuple(let args) = fa[1] else { throw fail("REDUCE arguments are not a tuple") }
                push(try call(fa[0], args))  // containers made by a call carry their shape
            case 0x81:                                                             // NEWOBJ
                let ca = try pop(2)
                guard case .tuple(let args) = ca[1] else { throw fail("NEWOBJ arguments are not a tuple") }
                push(try call(ca[0], args))
            case 0x62:                                                             // BUILD
                // State applied to an object: OrderedDict's `_metadata`, a parameter's
                // attributes. Nothing of it is needed to read tensors; drop it.
                _ = try pop(1)
            case 0x51:                                                             // BINPERSID
                push(try persistentLoad(try pop(1)[0]))
            default:
                throw CheckpointError(path, "unsupported pickle opcode 0x\(String(op, radix: 16)) at byte \(opcodeOffset)")
            }
        }
    }

    private func fail(_ reason: String) -> CheckpointError { CheckpointError(path, "malformed pickle: \(reason) at byte \(position)") }

    private mutating func byte() throws -> UInt8 {
        guard position < data.count else { throw CheckpointError(path, "truncated pickle (ended at byte \(position))") }
        defer { position += 1 }
        return data[data.startIndex + position]
    }

    private mutating func take(_ n: Int) throws -> [UInt8] {
        guard n >= 0, position + n <= data.count else { throw CheckpointError(path, "truncated pickle (wanted \(n) bytes at \(position))") }
        defer { position += n }
        return Array(data[(data.startIndex + position)..<(data.startIndex + position + n)])
    }

    /// An 8-byte length; one beyond Int (or the data) is a truncated or crafted pickle.
    private mutating func length8() throws -> Int {
        let raw = try littleEndian(8)
        guard raw <= UInt64(data.count) else { throw CheckpointError(path, "truncated pickle (a length of \(raw) bytes at \(position - 8))") }
        return Int(raw)
    }

    private mutating func littleEndian(_ n: Int) throws -> UInt64 {
        try take(n).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    private mutating func long(_ n: Int) throws -> PickleValue {
        guard n > 0 else { return .int(0) }
        guard n <= 8 else {
            guard n <= 64 else { throw fail("integer of \(n) bytes") }
            return .bigInt(try take(n))
        }
        let raw = try littleEndian(n)
        let shift = UInt64(64 - 8 * n)
        return .int(Int64(bitPattern: raw << shift) >> Int64(shift))  // sign-extend
    }

    private mutating func utf8(_ n: Int) throws -> String { String(decoding: try take(n), as: UTF8.self) }
    private mutating func latin1(_ n: Int) throws -> String { String(try take(n).map { Character(Unicode.Scalar($0)) }) }

    private mutating func textLine() throws -> String {
        var bytes: [UInt8] = []
        while true {
            let b = try byte()
            if b == 0x0A { break }
            bytes.append(b)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func top() throws -> PickleValue {
        guard let v = stack.last else { throw fail("empty stack") }
        return v
    }

    private func topEntry() throws -> (value: PickleValue, shape: PickleShape) {
        guard let v = stack.last else { throw fail("empty stack") }
        return (v, Self.shape(of: v, stored: shapes[shapes.count - 1]))
    }

    /// A value's shape: lists and dicts carry their own (they grow after being pushed).
    private static func shape(of value: PickleValue, stored: PickleShape) -> PickleShape {
        switch value {
        case .list(let l): return l.shape
        case .dict(let d): return d.shape
        default: return stored
        }
    }

    private mutating func push(_ value: PickleValue, _ shape: PickleShape = .leaf) {
        stack.append(value)
        shapes.append(shape)
    }

    private mutating func push(_ entry: (value: PickleValue, shape: PickleShape)) { push(entry.value, entry.shape) }

    private mutating func pushTuple(_ items: [(value: PickleValue, shape: PickleShape)]) throws {
        let shape = PickleShape.container(items.map(\.shape))
        try check(shape)
        // A list or dict inside a tuple is frozen like one inside a container: appending a
        // tuple that holds a list to that list made a cycle (found by fuzzing).
        for item in items {
            switch item.value {
            case .list(let l): l.isNested = true
            case .dict(let d): d.isNested = true
            default: break
            }
        }
        push(.tuple(items.map(\.value)), shape)
    }

    /// Puts `children` into `container`: each nested list or dict is frozen from then on
    /// (pickle fills a container before nesting it), which rules out cycles and keeps every
    /// recorded shape true.
    private func nest(_ children: [(value: PickleValue, shape: PickleShape)], into container: AnyObject,
                      shape: inout PickleShape, isNested: Bool) throws {
        guard !isNested else { throw fail("a container changed after it was nested in another (unsupported)") }
        for child in children {
            switch child.value {
            case .list(let l):
                guard l !== container else { throw fail("a list that contains itself") }
                l.isNested = true
            case .dict(let d):
                guard d !== container else { throw fail("a dict that contains itself") }
                d.isNested = true
            default: break
            }
            shape.add(child.shape)
        }
        try check(shape)
    }

    private func check(_ shape: PickleShape) throws {
        guard shape.depth <= ReadLimits.pickleDepth else {
            throw CheckpointError(path, "pickle nests deeper than \(ReadLimits.pickleDepth) levels (at byte \(position)); not a state dict")
        }
        guard shape.size <= ReadLimits.pickleObjects else {
            throw CheckpointError(path, "pickle expands to more than \(ReadLimits.pickleObjects) objects (shared sub-objects repeated, at byte \(position)); not a state dict")
        }
    }

    private mutating func popEntries(_ n: Int) throws -> [(value: PickleValue, shape: PickleShape)] {
        guard stack.count >= n else { throw fail("stack underflow") }
        let start = stack.count - n
        let entries = (start..<stack.count).map { (stack[$0], Self.shape(of: stack[$0], stored: shapes[$0])) }
        stack.removeLast(n)
        shapes.removeLast(n)
        return entries
    }

    private mutating func pop(_ n: Int) throws -> [PickleValue] { try popEntries(n).map(\.value) }

    private mutating func popMarkEntries() throws -> [(value: PickleValue, shape: PickleShape)] {
        guard let m = marks.popLast(), m <= stack.count else { throw fail("no MARK") }
        return try popEntries(stack.count - m)
    }

    private func recall(_ i: Int) throws -> (value: PickleValue, shape: PickleShape) {
        guard let v = memo[i] else { throw fail("memo \(i) is empty") }
        return (v.value, Self.shape(of: v.value, stored: v.shape))
    }

    private func global(_ module: String, _ name: String) throws -> PickleValue {
        let full = "\(module).\(name)"
        if module == "torch", Self.storageTypes[name] != nil { return .global(module: module, name: name) }
        guard Self.callables.contains(full) else {
            throw CheckpointError(path, "unsupported pickle global \(full) (only state-dict contents can be read)")
        }
        return .global(module: module, name: name)
    }

    private func call(_ callable: PickleValue, _ args: [PickleValue]) throws -> PickleValue {
        guard case .global(let module, let name) = callable else { throw fail("call of a non-callable \(callable)") }
        switch "\(module).\(name)" {
        case "collections.OrderedDict":
            // OrderedDict() or OrderedDict([[key, value], …]) (older torch versions).
            let d = PickleDict()
            if let first = args.first {
                guard case .list(let pairs) = first else { throw fail("OrderedDict of \(first)") }
                d.shape = pairs.shape
                for pair in pairs.items {
                    switch pair {
                    case .list(let kv) where kv.items.count == 2: d.set(kv.items[0], kv.items[1])
                    case .tuple(let kv) where kv.count == 2: d.set(kv[0], kv[1])
                    default: throw fail("OrderedDict item \(pair) is not a pair")
                    }
                }
            }
            return .dict(d)
        case "builtins.set", "builtins.frozenset":
            guard case .list(let source)? = args.first else { return .list(PickleList()) }
            let l = PickleList(source.items)
            l.shape = source.shape
            return .list(l)
        case "_codecs.encode":
            guard case .string(let s) = args.first else { throw fail("_codecs.encode of a non-string") }
            return .bytes(s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        case "torch._utils._rebuild_parameter":
            guard let data = args.first else { throw fail("_rebuild_parameter without data") }
            return data
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
            guard args.count >= 4, case .storage(let storage) = args[0], case .int(let offset) = args[1],
                  case .tuple(let size) = args[2], case .tuple(let stride) = args[3] else {
                throw fail("unexpected arguments to \(name)")
            }
            let shape = try size.map { v -> Int in guard case .int(let i) = v else { throw fail("non-integer size") }; return Int(i) }
            let strides = try stride.map { v -> Int in guard case .int(let i) = v else { throw fail("non-integer stride") }; return Int(i) }
            return try rebuildTensor(storage, Int(offset), shape, strides)
        default:
            throw CheckpointError(path, "unsupported pickle global \(module).\(name)")
        }
    }
}
