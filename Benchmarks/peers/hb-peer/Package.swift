// swift-tools-version:6.0
// A Hummingbird 2 (SwiftNIO) server returning the same bytes as Dongfeng for the side-by-side
// benchmark (Benchmarks/run.sh). Built only by the benchmark, in its own scratch folder.
import PackageDescription

let package = Package(
    name: "hb-peer",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "HBPeer",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)
