// Where the committed fixtures and the shipped demo data live, for every test target.
import Foundation

public enum FixturePaths {
    /// The repository root (tests run from a source checkout).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/Fixtures`.
    public static let fixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures")

    /// A path relative to the repository root.
    public static func path(_ relative: String) -> String { repositoryRoot.appendingPathComponent(relative).path }

    /// Decodes a JSON fixture from `Tests/Fixtures/<name>`.
    public static func decode<T: Decodable>(_ type: T.Type, from name: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(contentsOf: fixtures.appendingPathComponent(name)))
    }

    /// A fresh temporary directory, removed by the caller when done.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ecdp-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
