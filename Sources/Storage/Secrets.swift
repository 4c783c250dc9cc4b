import Crypto
import Domain
import Foundation
import HummingbirdBcrypt
import Synchronization

/// Passwords and tokens at rest: passwords as bcrypt hashes, tokens as SHA-256 digests. Neither is ever logged.
enum Secrets {
    /// Hashes to verify against when the account does not exist or has no password, one per cost, so a login takes
    /// as long whether the e-mail is known or not.
    private static let decoys = Mutex([UInt8: String]())

    static func decoyHash(cost: UInt8) -> String {
        if let hash = decoys.withLock({ $0[cost] }) { return hash }
        let hash = Bcrypt.hash("decoy password that matches nothing", cost: cost)
        decoys.withLock { $0[cost] = hash }
        return hash
    }

    /// bcrypt is CPU work of ~0.1 s a call: at most one per core at a time, so a burst of logins or sign-ups leaves the
    /// blocking pool's other threads free for database work.
    private static let bcryptSlots = DispatchSemaphore(value: max(1, ProcessInfo.processInfo.activeProcessorCount))

    private static func limited<T>(_ work: () -> T) -> T {
        bcryptSlots.wait()
        defer { bcryptSlots.signal() }
        return work()
    }

    static func hashPassword(_ password: String, cost: UInt8) -> String { limited { Bcrypt.hash(password, cost: cost) } }

    /// Whether `password` matches `hash`; with no hash (unknown account) a decoy of the same cost is checked, so the
    /// answer takes as long. (Accounts made before passwords were limited to 72 bytes still log in: bcrypt reads the
    /// same first 72 bytes it hashed; a NUL never reaches here, the API refuses control characters.)
    static func verify(_ password: String, hash: String?, cost: UInt8) -> Bool {
        limited { Bcrypt.verify(password, hash: hash ?? decoyHash(cost: cost)) && hash != nil }
    }

    /// A new opaque bearer token: "mdp_" and 32 random bytes, base64url.
    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let base64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return "mdp_" + base64
    }

    /// What is stored of a token: its SHA-256, hex.
    static func tokenHash(_ token: String) -> String {
        Hex.string(SHA256.hash(data: Data(token.utf8)))
    }
}
