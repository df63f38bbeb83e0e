// A folder of PNG images, listed in a stable (sorted) order.
import Foundation

public enum ImageFolder {
    /// The PNG files directly inside `path`, sorted by name. Throws when the folder is
    /// missing or holds no PNG.
    public static func list(_ path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageError(path: path, reason: "no such folder")
        }
        guard isDirectory.boolValue else { throw ImageError(path: path, reason: "is a file, expected a folder of PNG images") }
        let names = try FileManager.default.contentsOfDirectory(atPath: path)
            .filter { $0.lowercased().hasSuffix(".png") && !$0.hasPrefix(".") }
            .sorted()
        guard !names.isEmpty else { throw ImageError(path: path, reason: "no PNG images in this folder") }
        return names.map { (path as NSString).appendingPathComponent($0) }
    }
}
