// swift-tools-version:6.1
// libFuzzer targets, one per codec that reads bytes from the network or a user's file. Built
// only by Fuzz/run.sh, with `-sanitize=fuzzer,address`; each main hands its function to
// libFuzzer (FuzzDriver). Never part of the root package's build.
import Foundation
import PackageDescription

// A path dependency is named after its folder, which is whatever the clone was called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent
let codecs: Target.Dependency = .product(name: "DongfengCodecs", package: root.lowercased())
let package = Package(
    name: "DongfengFuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(name: "FuzzHTTP", dependencies: [codecs, "FuzzDriver"]),
        .executableTarget(name: "FuzzWSFrames", dependencies: [codecs, "FuzzDriver"]),
        .executableTarget(name: "FuzzInflate", dependencies: [codecs, "FuzzDriver"]),
        .executableTarget(name: "FuzzTicks", dependencies: [codecs, "FuzzDriver"]),
        .executableTarget(name: "FuzzRules", dependencies: [codecs, "FuzzDriver"]),
        .executableTarget(name: "FuzzRESP", dependencies: [codecs, "FuzzDriver"]),
        .executableTarget(name: "FuzzStream", dependencies: [codecs, "FuzzDriver"]),
    ],
    swiftLanguageModes: [.v6]
)
