// Making the folders a command writes into, with a plain message when a file stands where
// a folder must go (Foundation's own error reads "Error Domain=NSCocoaErrorDomain Code=516").
import Foundation

public enum Folders {
    /// Creates `path` and any missing parents; does nothing if it is already a folder.
    public static func create(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw FolderError("\(path) is a file, but a folder is needed there") }
            return
        }
        // The nearest existing ancestor must be a folder too.
        var ancestor = (path as NSString).deletingLastPathComponent
        while !ancestor.isEmpty, ancestor != "/", !FileManager.default.fileExists(atPath: ancestor, isDirectory: &isDirectory) {
            ancestor = (ancestor as NSString).deletingLastPathComponent
        }
        if !ancestor.isEmpty, FileManager.default.fileExists(atPath: ancestor, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw FolderError("cannot create the folder \(path): \(ancestor) is a file")
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            let reason = (error as NSError).userInfo[NSUnderlyingErrorKey].map { "\(($0 as? NSError)?.localizedDescription ?? "\($0)")" }
            throw FolderError("cannot create the folder \(path)" + (reason.map { ": \($0)" } ?? ""))
        }
    }
}

public struct FolderError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
