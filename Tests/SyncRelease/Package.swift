// swift-tools-version: 6.2
// The sync engine's tests (the same files as Tests/SyncTests) built optimised: only -O shows some compiler faults (a
// task group's results lost, once). A package of its own, so that a release build compiles the engine and what it
// needs, not the whole server. `make test` builds and runs it; see the Makefile.
import Foundation
import PackageDescription

/// The root package, two folders up; a path dependency is named after its folder.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "mdp-sync-release-tests",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: root.path),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        /// `mdp sync once` as the crash test runs it, optimised (MDP_TEST_BINARY for this package's run).
        .executableTarget(
            name: "SyncOnce",
            dependencies: [.product(name: "MDPSyncEngine", package: root.lastPathComponent.lowercased())],
            path: "SyncOnce",
            swiftSettings: [.treatAllWarnings(as: .error)]
        ),
        .testTarget(
            name: "SyncTests",
            dependencies: [
                .product(name: "MDPSyncEngine", package: root.lastPathComponent.lowercased()),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "SyncTests",
            swiftSettings: [.treatAllWarnings(as: .error)]
        )
    ]
)
