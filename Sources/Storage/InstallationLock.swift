import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The lock a running `mdp serve` holds on its SQLite data folder (`mdp.lock`, an advisory `flock` the kernel drops
/// when the process ends, however it ends): a second server on the same folder, or a restore over it, is refused.
public final class InstallationLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close(descriptor) }

    static let fileName = "mdp.lock"

    static func file(_ dataDirectory: String) -> String { URL(fileURLWithPath: dataDirectory).appendingPathComponent(fileName).path }

    /// Takes the lock, or throws `BackupError.inUse` when another process holds it.
    public static func acquire(dataDirectory: String) throws -> InstallationLock {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let descriptor = open(file(dataDirectory), O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteNoPermission) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw BackupError.inUse(dataDirectory)
        }
        return InstallationLock(descriptor: descriptor)
    }
}
