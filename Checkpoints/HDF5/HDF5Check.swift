// A walk over an HDF5 file's structure before libhdf5 opens it. libhdf5 trusts the
// addresses and sizes it finds (it is not hardened against crafted files), so every
// structure our files use — the version-0 superblock, symbol-table groups (B-tree v1,
// local heap, symbol nodes), version-1 object headers and contiguous or compact datasets of
// plain numbers — is parsed here first and must lie inside the file; anything else is
// refused as "not a file this program writes". Fuzzed as `ecdp-fuzz hdf5`
// (docs/robustness.md).
import Foundation

public enum HDF5Check {
    /// Structures one file may hold: bounds the walk of a crafted file (a training state
    /// has a few hundred datasets).
    static let objectLimit = 100_000
    static let groupDepth = 32
    static let maxRank = 8

    /// Throws unless `path` is an HDF5 file of the layout our writer produces, with every
    /// structure inside the file.
    public static func validate(_ path: String) throws {
        try validate(try MappedFile.contents(of: path), path: path)
    }

    static func validate(_ data: Data, path: String) throws {
        var walk = Walk(data: data, path: path)
        try walk.run()
    }

    private struct Walk {
        let data: Data
        let path: String
        var end = 0
        var visited = Set<Int>()
        /// The superblock's B-tree K values: libhdf5 sizes every node it reads by them.
        var leafK = 0, internalK = 0

        init(data: Data, path: String) {
            self.data = data
            self.path = path
        }

        static let undefined = UInt64.max
        static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

        func fail(_ reason: String) -> CheckpointError { CheckpointError(path, "damaged or not an HDF5 file this program writes: \(reason)") }

        func read(_ offset: Int, _ count: Int) throws -> UInt64 {
            guard offset >= 0, count <= 8, offset <= end - count else { throw fail("a structure runs past the end of the file (byte \(offset))") }
            var value: UInt64 = 0
            let base = data.startIndex + offset
            for i in (0..<count).reversed() { value = value << 8 | UInt64(data[base + i]) }
            return value
        }

        func bytes(_ offset: Int, _ count: Int) throws -> [UInt8] {
            guard offset >= 0, count >= 0, offset <= end - count else { throw fail("a structure runs past the end of the file (byte \(offset))") }
            return [UInt8](data[(data.startIndex + offset)..<(data.startIndex + offset + count)])
        }

        /// An address that must point inside the file, `room` bytes before its end.
        func address(_ offset: Int, room: Int = 1, what: String) throws -> Int {
            let a = try read(offset, 8)
            guard a != Self.undefined, a < UInt64(end), Int(a) <= end - room else { throw fail("\(what) at address \(a) lies outside the \(end)-byte file") }
            return Int(a)
        }

        mutating func visit(_ address: Int, _ what: String) throws {
            guard visited.insert(address).inserted else { throw fail("\(what) at \(address) is reached twice (a cycle)") }
            guard visited.count <= HDF5Check.objectLimit else { throw fail("more than \(HDF5Check.objectLimit) structures") }
        }

        mutating func run() throws {
            end = data.count
            guard end >= 96 else { throw fail("\(end) bytes is too short for a superblock") }
            guard try bytes(0, 8) == Self.signature else { throw fail("no HDF5 signature at the start") }
            let version = try read(8, 1)
            guard version == 0 else { throw fail("superblock version \(version) (this program writes version 0)") }
            guard try read(13, 1) == 8, try read(14, 1) == 8 else { throw fail("offsets and lengths are not 8 bytes") }
            guard try read(24, 8) == 0 else { throw fail("a base address other than 0") }
            guard try read(32, 8) == Self.undefined, try read(48, 8) == Self.undefined else {
                throw fail("free-space or driver information (this program writes neither)")
            }
            leafK = Int(try read(16, 2)); internalK = Int(try read(18, 2))
            guard (1...1024).contains(leafK), (1...1024).contains(internalK) else { throw fail("B-tree sizes \(leafK) and \(internalK)") }
            let eof = try read(40, 8)
            guard eof <= UInt64(end) else { throw fail("the superblock says the file has \(eof) bytes; it has \(end) (truncated?)") }
            end = Int(eof)  // libhdf5 reads nothing past the end address
            // The root group's symbol-table entry starts at 56.
            try group(entry: 56, objectHeader: try address(64, room: 16, what: "the root group"), depth: 0)
        }

        /// One message of an object header: type, data offset and size.
        struct Message { var type: UInt64; var offset: Int; var size: Int }

        /// A version-1 object header's messages, continuation blocks followed.
        mutating func messages(at header: Int) throws -> [Message] {
            try visit(header, "an object header")
            guard try read(header, 1) == 1 else { throw fail("object header at \(header) is not version 1") }
            let declared = Int(try read(header + 2, 2))
            let size = Int(try read(header + 8, 4))
            var blocks = [(start: header + 16, length: size)]
            var out: [Message] = []
            var b = 0
            while b < blocks.count {
                let (start, length) = blocks[b]
                guard length >= 0, start <= end - length else { throw fail("object header block at \(start) (\(length) bytes) runs past the file") }
                var cursor = start
                while cursor + 8 <= start + length {
                    let type = try read(cursor, 2), size = Int(try read(cursor + 2, 2))
                    guard cursor + 8 + size <= start + length else { throw fail("a header message at \(cursor) overruns its block") }
                    out.append(Message(type: type, offset: cursor + 8, size: size))
                    guard out.count <= declared, out.count <= 4096 else { throw fail("object header at \(header) holds more messages than it declares") }
                    if type == 0x10 {  // continuation: another block of messages
                        guard size >= 16 else { throw fail("a short continuation message") }
                        let next = try address(cursor + 8, what: "a header continuation")
                        let nextLength = try read(cursor + 16, 8)
                        guard nextLength <= UInt64(end - next) else { throw fail("a header continuation runs past the file") }
                        try visit(next, "a header continuation")
                        blocks.append((next, Int(nextLength)))
                    }
                    cursor += 8 + size
                }
                b += 1
            }
            return out
        }

        /// A group, from its symbol-table entry (whose cached B-tree and heap addresses
        /// libhdf5 may use instead of the header's, so they must agree).
        mutating func group(entry: Int, objectHeader: Int, depth: Int) throws {
            guard depth <= HDF5Check.groupDepth else { throw fail("groups nested deeper than \(HDF5Check.groupDepth)") }
            let messages = try self.messages(at: objectHeader)
            guard let table = messages.first(where: { $0.type == 0x11 }), table.size >= 16 else {
                throw fail("the group at \(objectHeader) has no symbol table (this program writes no other kind)")
            }
            let tree = try address(table.offset, room: 24, what: "a group's B-tree")
            let heap = try address(table.offset + 8, room: 32, what: "a group's local heap")
            guard try bytes(heap, 4) == Array("HEAP".utf8), try read(heap + 4, 1) == 0 else { throw fail("no local heap at \(heap)") }
            let heapSize = try read(heap + 8, 8)
            let heapData = try address(heap + 24, what: "a local heap's data")
            guard heapSize <= UInt64(end - heapData) else { throw fail("a local heap's data runs past the file") }
            try visit(heap, "a local heap")
            // The free list: blocks of (next offset, size) inside the data; 1 ends it.
            var free = try read(heap + 16, 8), blocks = 0
            while free != 1 && free != Self.undefined {
                guard free <= heapSize, heapSize - free >= 16, blocks < 4096 else { throw fail("a local heap's free list leaves its data") }
                let size = try read(heapData + Int(free) + 8, 8)
                guard size <= heapSize - free else { throw fail("a local heap's free block overruns its data") }
                free = try read(heapData + Int(free), 8)
                blocks += 1
            }
            if try read(entry + 16, 4) == 1 {
                guard try read(entry + 24, 8) == UInt64(tree), try read(entry + 32, 8) == UInt64(heap) else {
                    throw fail("a group entry's cached B-tree and heap differ from its header's")
                }
            }
            try node(tree, heap: (heapData, Int(heapSize)), level: nil, depth: depth)
        }

        /// A group B-tree node: children are lower nodes or, at level 0, symbol nodes.
        mutating func node(_ at: Int, heap: (start: Int, size: Int), level expected: UInt64?, depth: Int) throws {
            try visit(at, "a B-tree node")
            guard try bytes(at, 4) == Array("TREE".utf8), try read(at + 4, 1) == 0 else { throw fail("no group B-tree node at \(at)") }
            let level = try read(at + 5, 1)
            if let expected { guard level == expected else { throw fail("a B-tree node at \(at) has level \(level), expected \(expected)") } }
            let used = Int(try read(at + 6, 2))
            // libhdf5 reads the node at its full size: 2K children, 2K + 1 keys.
            guard used <= 2 * internalK, at <= end - (32 + 32 * internalK) else { throw fail("a B-tree node at \(at) with \(used) entries or past the file") }
            // Keys (8 bytes, heap offsets) and children (8-byte addresses) alternate after the
            // 24-byte node header: key 0, child 0, key 1, …, key `used`.
            for i in 0..<used {
                let child = try address(at + 24 + 8 + 16 * i, room: 8, what: "a B-tree child")
                if level > 0 { try node(child, heap: heap, level: level - 1, depth: depth) }
                else { try symbols(child, heap: heap, depth: depth) }
            }
        }

        mutating func symbols(_ at: Int, heap: (start: Int, size: Int), depth: Int) throws {
            try visit(at, "a symbol node")
            guard try bytes(at, 4) == Array("SNOD".utf8), try read(at + 4, 1) == 1 else { throw fail("no symbol node at \(at)") }
            let count = Int(try read(at + 6, 2))
            guard count <= 2 * leafK, at <= end - (8 + 80 * leafK) else { throw fail("a symbol node at \(at) with \(count) entries or past the file") }
            for i in 0..<count {
                let entry = at + 8 + 40 * i
                let nameOffset = try read(entry, 8)
                guard nameOffset < UInt64(heap.size) else { throw fail("a link name outside its group's heap") }
                let name = try bytes(heap.start + Int(nameOffset), min(heap.size - Int(nameOffset), 1024))
                guard name.contains(0) else { throw fail("a link name without its end in the heap") }
                let header = try address(entry + 8, room: 16, what: "an object header")
                let messages = try self.messages(at: header)
                if messages.contains(where: { $0.type == 0x11 }) {
                    visited.remove(header)  // `group` visits it again
                    try group(entry: entry, objectHeader: header, depth: depth + 1)
                } else {
                    try dataset(messages, header: header)
                }
            }
        }

        func dataset(_ messages: [Message], header: Int) throws {
            func one(_ type: UInt64, _ name: String) throws -> Message {
                guard let m = messages.first(where: { $0.type == type }) else { throw fail("the dataset at \(header) has no \(name) message") }
                return m
            }
            let space = try one(0x01, "dataspace"), type = try one(0x03, "datatype"), layout = try one(0x08, "layout")
            guard !messages.contains(where: { $0.type == 0x0B }) else { throw fail("a filtered (compressed) dataset at \(header)") }
            // Dataspace, version 1 (8-byte prefix) or 2 (4-byte prefix).
            let spaceVersion = try read(space.offset, 1), rank = Int(try read(space.offset + 1, 1))
            guard spaceVersion == 1 || spaceVersion == 2, rank <= HDF5Check.maxRank else { throw fail("dataspace version \(spaceVersion) of rank \(rank)") }
            let dims = spaceVersion == 1 ? space.offset + 8 : space.offset + 4
            guard dims + 8 * rank <= space.offset + space.size else { throw fail("a dataspace shorter than its rank") }
            var count: Int? = 1
            for d in 0..<rank {
                let n = try read(dims + 8 * d, 8)
                count = count.flatMap { c in Int(exactly: n).flatMap { ReadLimits.product([c, $0]) } }
            }
            // Datatype: a fixed-point or floating-point number of 1, 2, 4 or 8 bytes.
            let classAndVersion = try read(type.offset, 1)
            let typeClass = classAndVersion & 0x0F, elementSize = try read(type.offset + 4, 4)
            guard classAndVersion >> 4 == 1, typeClass <= 1, [1, 2, 4, 8].contains(elementSize), type.size >= 12 else {
                throw fail("a dataset at \(header) of a type other than a plain number")
            }
            let bytes = count.flatMap { ReadLimits.product([$0, Int(elementSize)]) }
            // Layout version 3: compact (data inside the header) or contiguous.
            guard try read(layout.offset, 1) == 3 else { throw fail("a dataset layout other than version 3") }
            switch try read(layout.offset + 1, 1) {
            case 0:
                let size = Int(try read(layout.offset + 2, 2))
                guard layout.offset + 4 + size <= layout.offset + layout.size, bytes == size else { throw fail("compact data of the wrong size at \(header)") }
            case 1:
                let at = try read(layout.offset + 2, 8), size = try read(layout.offset + 10, 8)
                if at == Self.undefined { break }  // never written: the readers' budget applies
                guard at < UInt64(end), size <= UInt64(end) - at else { throw fail("dataset data at \(at) (\(size) bytes) lies outside the file") }
                guard let bytes, UInt64(bytes) == size else { throw fail("dataset data of \(size) bytes for its shape and type") }
            default:
                throw fail("a chunked or virtual dataset at \(header)")
            }
        }
    }
}
