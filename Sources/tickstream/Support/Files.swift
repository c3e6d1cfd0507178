import Foundation

/// Creates the directory that will hold `path` (a file), with its parents; nothing when it exists.
func createParentDirectory(of path: String) throws {
    let parent = URL(fileURLWithPath: path).deletingLastPathComponent()
    try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
}
