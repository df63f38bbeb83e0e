// A check of a zip container's directory before ZIPFoundation reads it: ZIPFoundation trusts
// the offsets it finds (one past 2^63 traps converting to off_t), so every offset and size
// the directory records must point inside the file. Found by fuzzing (docs/robustness.md).
enum ZipCheck {
    /// Throws unless the end-of-central-directory record (zip64 included) and every
    /// central-directory entry stay within `bytes`.
    static func validate<Bytes: RandomAccessCollection>(_ file: Bytes, path: String) throws
    where Bytes.Element == UInt8, Bytes.Index == Int {
        // Only the directory is read; `file` is usually mapped, not copied.
        let bytes = OffsetBytes(file)
        func fail(_ reason: String) -> CheckpointError { CheckpointError(path, "damaged or truncated zip archive: \(reason)") }
        func read(_ offset: Int, _ count: Int) throws -> UInt64 {
            guard offset >= 0, count <= 8, offset <= bytes.count - count else { throw fail("a record runs past the end of the file") }
            var value: UInt64 = 0
            for i in (0..<count).reversed() { value = value << 8 | UInt64(bytes[offset + i]) }
            return value
        }
        let size = UInt64(bytes.count)
        // The end-of-central-directory record: 22 bytes and a comment of up to 65,535.
        var eocd = -1
        var i = bytes.count - 22
        while i >= max(0, bytes.count - 22 - 65_535) {
            if bytes[i] == 0x50, bytes[i + 1] == 0x4B, bytes[i + 2] == 0x05, bytes[i + 3] == 0x06 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw fail("no end-of-central-directory record") }
        var entries = try read(eocd + 10, 2)
        var directorySize = try read(eocd + 12, 4)
        var directoryOffset = try read(eocd + 16, 4)
        // Zip64: a locator 20 bytes before, pointing at the zip64 record.
        if eocd >= 20, try read(eocd - 20, 4) == 0x0706_4B50 {
            let record = try read(eocd - 20 + 8, 8)
            guard record < size, let start = Int(exactly: record),
                  try read(start, 4) == 0x0606_4B50 else { throw fail("the zip64 end record is not where its locator says") }
            entries = try read(start + 32, 8)
            directorySize = try read(start + 40, 8)
            directoryOffset = try read(start + 48, 8)
        }
        guard directoryOffset <= size, directorySize <= size - directoryOffset else {
            throw fail("the central directory (offset \(directoryOffset), \(directorySize) bytes) lies outside the \(size)-byte file")
        }
        guard entries <= directorySize / 46 else { throw fail("\(entries) entries cannot fit a \(directorySize)-byte directory") }
        var cursor = Int(directoryOffset)
        for _ in 0..<entries {
            guard try read(cursor, 4) == 0x0201_4B50 else { throw fail("a central-directory entry without its signature") }
            var compressed = try read(cursor + 20, 4), uncompressed = try read(cursor + 24, 4)
            let nameLength = Int(try read(cursor + 28, 2)), extraLength = Int(try read(cursor + 30, 2))
            let commentLength = Int(try read(cursor + 32, 2))
            var localOffset = try read(cursor + 42, 4)
            // Zip64 sizes and offset live in extra field 0x0001, each only when its field is all ones.
            var extra = cursor + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = try read(extra, 2), length = Int(try read(extra + 2, 2))
                if id == 1 {
                    var field = extra + 4
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try read(field, 8); field += 8 }
                    if compressed == 0xFFFF_FFFF { compressed = try read(field, 8); field += 8 }
                    if localOffset == 0xFFFF_FFFF { localOffset = try read(field, 8) }
                }
                extra += 4 + length
            }
            guard localOffset < size, compressed <= size, uncompressed <= UInt64(Int32.max) * 64 else {
                throw fail("an entry's offset or sizes (\(localOffset), \(compressed), \(uncompressed)) lie outside the file")
            }
            cursor = extraEnd + commentLength
        }
    }
}

/// A collection indexed from 0, whatever its own start index.
private struct OffsetBytes<Base: RandomAccessCollection> where Base.Element == UInt8, Base.Index == Int {
    let base: Base
    init(_ base: Base) { self.base = base }
    var count: Int { base.count }
    subscript(i: Int) -> UInt8 { base[base.startIndex + i] }
}
