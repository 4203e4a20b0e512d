// swift-tools-version:6.1
import PackageDescription

/// What the Gateway's test targets (split by area) import.
let gatewayTestDependencies: [Target.Dependency] = [
    "Gateway", "TestSupport", "Reactor", "HTTP", "Contracts", "Pipeline", "Deflate", "CLinux", "COpenSSL", "Redis",
    "Locks", "Operator", "Store", .product(name: "Logging", package: "swift-log"),
]

/// The per-bar and per-request code (engine, research, reactor, HTTP, gateway): release builds
/// skip the dynamic exclusivity checks of class properties (debug builds and the sanitizer runs
/// keep them). Benchmarks/research.sh and Benchmarks/run.sh measure it.
let hotPathSettings: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

// Linux only: the reactor is epoll, the shims are Linux's (accept4, eventfd, futex, timerfd), so
// no Apple platform is declared.
let package = Package(
    name: "dongfeng",
    products: [
        .executable(name: "dongfeng", targets: ["dongfeng"]),
        .executable(name: "dongfeng-bench", targets: ["DongfengBench"]),
        .executable(name: "dongfeng-wsload", targets: ["DongfengWSLoad"]),
        // The pure codecs, for the libFuzzer targets in Fuzz/ (a package of their own).
        .library(name: "DongfengCodecs", targets: ["HTTP", "WebSocket", "Deflate", "Contracts", "Pipeline", "Redis"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        // Counts heap allocations in Benchmarks/ (preloaded only by Benchmarks/parser.sh).
        .package(url: "https://github.com/ordo-one/malloc-interposer", exact: "1.6.1"),
        // Latency percentiles: /admin/metrics stage histograms and Benchmarks/.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", exact: "0.2.0"),
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
        // The one lock type (a pthread mutex ThreadSanitizer can see; see PThreadLocked).
        .target(name: "Locks"),
        // Event loop, sockets, timers, TLS. Knows nothing of HTTP.
        .target(
            name: "Reactor",
            dependencies: ["CLinux", "COpenSSL", "Locks"],
            swiftSettings: hotPathSettings
        ),
        // Pure HTTP/1.1 codec and router: values over bytes, no sockets.
        .target(name: "HTTP", dependencies: ["Contracts"], swiftSettings: hotPathSettings),
        // zlib wrappers: one-shot gzip (static files) and raw deflate streams (WebSocket).
        .target(name: "Deflate", dependencies: ["CZlib"]),
        // WebSocket codec (RFC 6455 frames, handshake, RFC 7692 negotiation): values over bytes.
        .target(name: "WebSocket", dependencies: ["Contracts", "Deflate", "COpenSSL"]),
        // Data contracts (Tick, Bar, events) and their codecs: pure values over bytes.
        .target(name: "Contracts"),
        // Latency histograms and counters read by /admin/metrics without blocking their writers.
        .target(name: "Telemetry", dependencies: ["Locks", .product(name: "Histogram", package: "hdrhistogram-swift")]),
        // The signal pipeline: lock-free rings, bars, indicators, strategies. Pure compute, no I/O.
        // Venues: time zones from the tz database, sessions, holidays, tick and lot sizes, limits.
        .target(name: "Markets", dependencies: ["Contracts"]),
        .target(name: "Pipeline", dependencies: ["CLinux", "Contracts", "Markets", "Telemetry", "Locks"],
                swiftSettings: hotPathSettings),
        // Strategy research on the live engine: backtests (trades, metrics, signal scorecards),
        // parameter sweeps, their JSON and HTML reports. Pure compute over bars, no I/O.
        .target(name: "Research", dependencies: ["Contracts", "Markets", "Pipeline"], swiftSettings: hotPathSettings),
        // Market data sources feeding the pipeline (the live simulator; Redis later).
        .target(name: "Feeds", dependencies: ["Pipeline", "Contracts", "Markets", "CLinux"]),
        // Redis: a pure RESP codec and a pipelined client on the reactor.
        .target(name: "Redis", dependencies: ["Reactor", "Locks", "CLinux"]),
        // The event journal: append-only segments, group commit, crash recovery.
        .target(name: "Store", dependencies: ["CZlib", "CLinux", "Contracts", "Pipeline", "Locks"]),
        // Wires HTTP onto the reactor: routes, static files, health, config.
        .target(
            name: "Gateway",
            dependencies: [
                "Reactor", "HTTP", "Deflate", "CLinux", "Contracts", "Markets", "Pipeline", "Feeds", "WebSocket", "Store", "Redis", "Telemetry", "Locks",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPathSettings
        ),
        // The operator commands' client: blocking HTTPS and WSS, Prometheus text samples.
        .target(name: "Operator", dependencies: ["CLinux", "COpenSSL"]),
        .executableTarget(
            name: "dongfeng",
            dependencies: [
                "Gateway", "Reactor", "Pipeline", "Contracts", "Operator", "Research", "CLinux", "Markets",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Codec micro-benchmarks (ops/s, allocations/op): Benchmarks/parser.sh.
        .executableTarget(
            name: "DongfengBench",
            dependencies: [
                "HTTP", "Pipeline", "Contracts", "Store",
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Benchmarks/DongfengBench"
        ),
        // WebSocket fan-out, idle-connection and end-to-end latency load generator: Benchmarks/ws.sh.
        .executableTarget(
            name: "DongfengWSLoad",
            dependencies: ["Reactor", "CLinux", "COpenSSL", .product(name: "Histogram", package: "hdrhistogram-swift")],
            path: "Benchmarks/WSLoad"
        ),
        // Tests mirror the modules; the Gateway's are split by area. TestSupport holds what the
        // server-level tests share: a real server on an ephemeral port, a raw TLS client over
        // Operator's ClientStream, a real redis-server, and running the built executable.
        .target(
            name: "TestSupport",
            dependencies: ["Gateway", "Operator", "Redis", "Reactor", "CLinux", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "ContractsTests", dependencies: ["Contracts"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP"]),
        .testTarget(name: "WebSocketTests", dependencies: ["WebSocket", "Deflate"]),
        .testTarget(name: "DeflateTests", dependencies: ["Deflate"]),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor", "CLinux", "Locks"]),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry"]),
        .testTarget(name: "MarketsTests", dependencies: ["Markets", "Contracts"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Markets"]),
        .testTarget(name: "ResearchTests", dependencies: ["Research", "Pipeline", "Contracts", "Markets"]),
        .testTarget(name: "FeedsTests", dependencies: ["Feeds", "Pipeline", "Contracts"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Pipeline", "Contracts"]),
        .testTarget(name: "RedisTests", dependencies: ["Redis", "Reactor", "TestSupport"]),
        .testTarget(name: "OperatorTests", dependencies: ["Operator", "TestSupport"]),
        .testTarget(name: "ServerTests", dependencies: gatewayTestDependencies),
        .testTarget(name: "APITests", dependencies: gatewayTestDependencies),
        .testTarget(name: "StreamingTests", dependencies: gatewayTestDependencies),
        .testTarget(name: "RestartTests", dependencies: gatewayTestDependencies),
        .testTarget(name: "GatewayConfigTests", dependencies: gatewayTestDependencies),
        // The `dongfeng` executable, run as a user runs it (serve, replay, health, watch, top…).
        .testTarget(name: "DongfengCLITests", dependencies: gatewayTestDependencies),
    ],
    swiftLanguageModes: [.v6]
)
