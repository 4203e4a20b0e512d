// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "dongfeng",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "dongfeng", targets: ["dongfeng"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
    ],
    targets: [
        // C shims: epoll/accept4/eventfd/timerfd, which Glibc does not export.
        .target(name: "CLinux"),
        // OpenSSL 3 from the system (libssl-dev); macros wrapped as static inline functions.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // zlib from the system (zlib1g-dev): gzip for static files, raw deflate for WebSocket.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Event loop, sockets, timers, TLS. Knows nothing of HTTP.
        .target(
            name: "Reactor",
            dependencies: ["CLinux", "COpenSSL"]
        ),
        // Pure HTTP/1.1 codec and router: values over bytes, no sockets.
        .target(name: "HTTP"),
        // Wires HTTP onto the reactor: routes, static files, health, config.
        .target(
            name: "Gateway",
            dependencies: [
                "Reactor", "HTTP", "CZlib", "CLinux",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "dongfeng",
            dependencies: [
                "Gateway", "Reactor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP"]),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor", "CLinux"]),
        .testTarget(
            name: "GatewayTests",
            dependencies: ["Gateway", "Reactor", "HTTP", "CZlib"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
