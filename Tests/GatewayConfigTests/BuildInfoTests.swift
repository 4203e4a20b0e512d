import Foundation
@testable import Gateway
import XCTest

/// `dongfeng_build_info`'s commit: the variable the image sets, else the checkout's HEAD as git
/// keeps it (a branch's loose ref, its packed ref, a detached HEAD, a worktree's .git file).
final class BuildInfoTests: XCTestCase {
    private let hash = "0123456789abcdef0123456789abcdef01234567"
    private let other = "fedcba9876543210fedcba9876543210fedcba98"

    private func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("buildinfo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url.appendingPathComponent("repo/.git/refs/heads"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: url.appendingPathComponent("repo/.build/release"), withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func write(_ text: String, _ url: URL, _ path: String) throws {
        try text.write(to: url.appendingPathComponent(path), atomically: true, encoding: .utf8)
    }

    func testTheVariableWins() {
        XCTAssertEqual(BuildInfo.resolve(environment: ["DFP_BUILD_COMMIT": " abc123\n"], places: ["/"]), "abc123")
    }

    func testBranchHeadLooseThenPacked() throws {
        let root = try folder()
        let binFolder = root.appendingPathComponent("repo/.build/release").path
        try write("ref: refs/heads/main\n", root, "repo/.git/HEAD")
        try write("# pack-refs with: peeled fully-peeled sorted\n\(other) refs/heads/other\n\(hash) refs/heads/main\n", root, "repo/.git/packed-refs")
        XCTAssertEqual(BuildInfo.resolve(environment: [:], places: [binFolder]), String(hash.prefix(12)))
        try write("\(other)\n", root, "repo/.git/refs/heads/main")
        XCTAssertEqual(BuildInfo.resolve(environment: [:], places: [binFolder]), String(other.prefix(12)))
    }

    func testDetachedHeadAndWorktreeFile() throws {
        let root = try folder()
        try write("\(hash)\n", root, "repo/.git/HEAD")
        XCTAssertEqual(BuildInfo.resolve(environment: [:], places: [root.appendingPathComponent("repo").path]), String(hash.prefix(12)))
        // A worktree: .git is a file naming the real folder.
        try FileManager.default.createDirectory(at: root.appendingPathComponent("tree"), withIntermediateDirectories: true)
        try write("gitdir: \(root.appendingPathComponent("repo/.git").path)\n", root, "tree/.git")
        XCTAssertEqual(BuildInfo.resolve(environment: [:], places: [root.appendingPathComponent("tree").path]), String(hash.prefix(12)))
    }

    func testNoCheckoutIsUnknown() throws {
        let root = try folder()
        try FileManager.default.removeItem(at: root.appendingPathComponent("repo/.git"))
        // Only the temporary folder's ancestors are searched: none is a checkout on a test machine.
        let result = BuildInfo.resolve(environment: [:], places: [root.appendingPathComponent("repo").path])
        XCTAssertEqual(result, "unknown")
    }
}
