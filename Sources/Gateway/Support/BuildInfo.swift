import Foundation

/// The commit the running build came from, for `dongfeng_build_info{version,commit}`: the
/// DFP_BUILD_COMMIT variable (the container image sets it from its COMMIT build argument), else
/// the HEAD of the git checkout the executable was built in (found above the executable or the
/// working directory), else "unknown". Read once.
public enum BuildInfo {
    public static let commit: String = resolve(environment: ProcessInfo.processInfo.environment,
                                               places: [executableFolder(), FileManager.default.currentDirectoryPath])

    static func resolve(environment: [String: String], places: [String]) -> String {
        if let given = environment["DFP_BUILD_COMMIT"]?.trimmingCharacters(in: .whitespacesAndNewlines), !given.isEmpty {
            return given
        }
        for place in places where !place.isEmpty {
            if let hash = checkoutHead(above: place) { return String(hash.prefix(12)) }
        }
        return "unknown"
    }

    /// HEAD of the first git checkout at or above `folder`: a detached hash, or the hash its
    /// branch points at (loose ref, else packed-refs).
    static func checkoutHead(above folder: String) -> String? {
        var url = URL(fileURLWithPath: folder).standardizedFileURL
        while true {
            if let git = gitFolder(at: url.appendingPathComponent(".git").path) {
                guard let head = read(git + "/HEAD") else { return nil }
                if head.hasPrefix("ref: ") {
                    let ref = String(head.dropFirst(5))
                    if let hash = read(git + "/" + ref), isHash(hash) { return hash }
                    let common = read(git + "/commondir").map { $0.hasPrefix("/") ? $0 : git + "/" + $0 } ?? git
                    if let hash = read(common + "/" + ref), isHash(hash) { return hash }
                    for line in (read(common + "/packed-refs") ?? "").split(separator: "\n") {
                        let parts = line.split(separator: " ")
                        if parts.count == 2, parts[1] == ref, isHash(String(parts[0])) { return String(parts[0]) }
                    }
                    return nil
                }
                return isHash(head) ? head : nil
            }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { return nil }
            url = parent
        }
    }

    /// `.git` is a folder, or (worktrees, submodules) a file saying `gitdir: PATH`.
    private static func gitFolder(at path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { return path }
        guard let text = read(path), text.hasPrefix("gitdir: ") else { return nil }
        let target = String(text.dropFirst(8))
        return target.hasPrefix("/") ? target : (path as NSString).deletingLastPathComponent + "/" + target
    }

    private static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func isHash(_ text: String) -> Bool {
        text.count >= 40 && text.allSatisfy { $0.isHexDigit }
    }

    private static func executableFolder() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            .map { ($0 as NSString).deletingLastPathComponent } ?? ""
    }
}
