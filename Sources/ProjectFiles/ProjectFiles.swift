// Finding the files the repository ships (configs, the demo photographs, the pretrained
// model, LPIPS heads, table specs) from any working directory: a path given relative to
// the current directory is used when it exists there; otherwise the same path under
// $ECDP_HOME, or under a folder above the running executable (a build inside the
// repository, `.build/release/ecdp`), or under the source tree the binary was built from.
import Foundation

public enum ProjectFiles {
    /// The folders that may hold the shipped files, in the order they are tried.
    public static func roots(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var roots: [String] = []
        if let home = environment["ECDP_HOME"], !home.isEmpty { roots.append(home) }
        roots.append(FileManager.default.currentDirectoryPath)
        var folder = (CommandLine.arguments.first.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path } ?? "") as NSString
        for _ in 0..<5 {
            folder = folder.deletingLastPathComponent as NSString
            if folder == "/" || folder.length == 0 { break }
            roots.append(folder as String)
        }
        // This file is Sources/ProjectFiles/ProjectFiles.swift in the source tree.
        roots.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path)
        return roots
    }

    /// `relative` under the first root that holds it, or nil.
    public static func locate(_ relative: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        roots(environment: environment).map { ($0 as NSString).appendingPathComponent(relative) }
            .first { FileManager.default.fileExists(atPath: $0) }
    }

    /// `path` itself when it exists or is absolute; else the shipped file of that name when
    /// one exists; else `path` unchanged (so an error names what the user wrote).
    public static func resolve(_ path: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if path.hasPrefix("/") || FileManager.default.fileExists(atPath: path) { return path }
        return locate(path, environment: environment) ?? path
    }
}
