// A restricted pickle virtual machine: the opcodes of protocols 2–5 that torch.save
// emits for state dicts, and a whitelist of globals (OrderedDict, torch's tensor
// rebuild functions, storage types). It never imports or calls anything: an opcode or
// global outside the subset is an error that names it.

struct Unpickler {
    let data: [UInt8]
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
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    init(data: [UInt8], path: String, persistentLoad: @escaping (PickleValue) throws -> PickleValue,
         rebuildTensor: @escaping (TorchStorageRef, Int, [Int], [Int]) throws -> PickleValue) {
        self.data = data
        self.path = path
        self.persistentLoad = persistentLoad
        self.rebuildTensor = rebuildTensor
    }

    /// Runs from `start` to the STOP opcode; returns the value and the offset after STOP.
    mutating func load(from start: Int = 0) throws -> (PickleValue, Int) {
        position = start
        stack = []; marks = []; memo = [:]
        while true {
            let opcodeOffset = position
            let op = try byte()
            switch op {
            case 0x80: _ = try byte()                                    // PROTO
            case 0x95: _ = try take(8)                                   // FRAME
            case 0x2E:                                                   // STOP
                guard let v = stack.popLast() else { throw fail("STOP with an empty stack") }
                return (v, position)
            case 0x7D: stack.append(.dict(PickleDict()))                 // EMPTY_DICT
            case 0x5D: stack.append(.list(PickleList()))                 // EMPTY_LIST
            case 0x29: stack.append(.tuple([]))                          // EMPTY_TUPLE
            case 0x28: marks.append(stack.count)                         // MARK
            case 0x4E: stack.append(.none)                               // NONE
            case 0x88: stack.append(.bool(true))                         // NEWTRUE
            case 0x89: stack.append(.bool(false))                        // NEWFALSE
            case 0x4B: stack.append(.int(Int64(try byte())))             // BININT1
            case 0x4D: stack.append(.int(Int64(try littleEndian(2))))    // BININT2
            case 0x4A: stack.append(.int(Int64(Int32(truncatingIfNeeded: try littleEndian(4)))))  // BININT
            case 0x8A: stack.append(try long(Int(try byte())))           // LONG1
            case 0x8B: stack.append(try long(Int(try littleEndian(4))))  // LONG4
            case 0x49:                                                   // INT (text)
                let line = try textLine()
                if line == "01" { stack.append(.bool(true)) } else if line == "00" { stack.append(.bool(false)) }
                else if let v = Int64(line) { stack.append(.int(v)) } else { throw fail("bad INT \(line)") }
            case 0x47:                                                   // BINFLOAT (big-endian)
                let b = try take(8)
                stack.append(.float(Double(bitPattern: b.reduce(0) { $0 << 8 | UInt64($1) })))
            case 0x58: stack.append(.string(try utf8(Int(try littleEndian(4)))))   // BINUNICODE
            case 0x8C: stack.append(.string(try utf8(Int(try byte()))))            // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(try utf8(Int(try littleEndian(8)))))   // BINUNICODE8
            case 0x54: stack.append(.string(try latin1(Int(try littleEndian(4)))))  // BINSTRING
            case 0x55: stack.append(.string(try latin1(Int(try byte()))))          // SHORT_BINSTRING
            case 0x42: stack.append(.bytes(try take(Int(try littleEndian(4)))))     // BINBYTES
            case 0x43: stack.append(.bytes(try take(Int(try byte()))))             // SHORT_BINBYTES
            case 0x8E: stack.append(.bytes(try take(Int(try littleEndian(8)))))    // BINBYTES8
            case 0x74: stack.append(.tuple(try popMark()))                         // TUPLE
            case 0x85: stack.append(.tuple(try pop(1)))                            // TUPLE1
            case 0x86: stack.append(.tuple(try pop(2)))                            // TUPLE2
            case 0x87: stack.append(.tuple(try pop(3)))                            // TUPLE3
            case 0x71: memo[Int(try byte())] = try top()                           // BINPUT
            case 0x72: memo[Int(try littleEndian(4))] = try top()                  // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()                                // MEMOIZE
            case 0x68: stack.append(try recall(Int(try byte())))                   // BINGET
            case 0x6A: stack.append(try recall(Int(try littleEndian(4))))          // LONG_BINGET
            case 0x30: _ = try pop(1)                                              // POP
            case 0x31: _ = try popMark()                                           // POP_MARK
            case 0x32: stack.append(try top())                                     // DUP
            case 0x61:                                                             // APPEND
                let v = try pop(1)[0]
                guard case .list(let l) = try top() else { throw fail("APPEND to a non-list") }
                l.items.append(v)
            case 0x65:                                                             // APPENDS
                let items = try popMark()
                guard case .list(let l) = try top() else { throw fail("APPENDS to a non-list") }
                l.items += items
            case 0x73:                                                             // SETITEM
                let kv = try pop(2)
                guard case .dict(let d) = try top() else { throw fail("SETITEM on a non-dict") }
                d.set(kv[0], kv[1])
            case 0x75:                                                             // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0, case .dict(let d) = try top() else { throw fail("bad SETITEMS") }
                for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
            case 0x63:                                                             // GLOBAL
                let module = try textLine(), name = try textLine()
                stack.append(try global(module, name))
            case 0x93:                                                             // STACK_GLOBAL
                let mn = try pop(2)
                guard case .string(let module) = mn[0], case .string(let name) = mn[1] else { throw fail("bad STACK_GLOBAL") }
                stack.append(try global(module, name))
            case 0x52:                                                             // REDUCE
                let fa = try pop(2)
                guard case .tuple(let args) = fa[1] else { throw fail("REDUCE arguments are not a tuple") }
                stack.append(try call(fa[0], args))
            case 0x81:                                                             // NEWOBJ
                let ca = try pop(2)
                guard case .tuple(let args) = ca[1] else { throw fail("NEWOBJ arguments are not a tuple") }
                stack.append(try call(ca[0], args))
            case 0x62:                                                             // BUILD
                // State applied to an object: OrderedDict's `_metadata`, a parameter's
                // attributes. Nothing of it is needed to read tensors; drop it.
                _ = try pop(1)
            case 0x51:                                                             // BINPERSID
                stack.append(try persistentLoad(try pop(1)[0]))
            default:
                throw CheckpointError(path, "unsupported pickle opcode 0x\(String(op, radix: 16)) at byte \(opcodeOffset)")
            }
        }
    }

    private func fail(_ reason: String) -> CheckpointError { CheckpointError(path, "malformed pickle: \(reason) at byte \(position)") }

    private mutating func byte() throws -> UInt8 {
        guard position < data.count else { throw CheckpointError(path, "truncated pickle (ended at byte \(position))") }
        defer { position += 1 }
        return data[position]
    }

    private mutating func take(_ n: Int) throws -> [UInt8] {
        guard n >= 0, position + n <= data.count else { throw CheckpointError(path, "truncated pickle (wanted \(n) bytes at \(position))") }
        defer { position += n }
        return Array(data[position..<(position + n)])
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

    private mutating func pop(_ n: Int) throws -> [PickleValue] {
        guard stack.count >= n else { throw fail("stack underflow") }
        defer { stack.removeLast(n) }
        return Array(stack.suffix(n))
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast(), m <= stack.count else { throw fail("no MARK") }
        defer { stack.removeLast(stack.count - m) }
        return Array(stack[m...])
    }

    private func recall(_ i: Int) throws -> PickleValue {
        guard let v = memo[i] else { throw fail("memo \(i) is empty") }
        return v
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
            return .list(PickleList(args.first.flatMap { if case .list(let l) = $0 { return l.items }; return nil } ?? []))
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
