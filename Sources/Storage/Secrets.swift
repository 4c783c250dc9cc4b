import Crypto
import Foundation
import HummingbirdBcrypt

/// Passwords and tokens at rest: passwords as bcrypt hashes, tokens as SHA-256 digests. Neither is ever logged.
enum Secrets {
    /// A hash to verify against when the account does not exist, so a login takes as long either way.
    static let decoyHash = Bcrypt.hash("decoy password that matches nothing", cost: 4)

    static func hashPassword(_ password: String, cost: UInt8) -> String { Bcrypt.hash(password, cost: cost) }

    static func verify(_ password: String, hash: String?) -> Bool {
        guard let hash else {
            _ = Bcrypt.verify(password, hash: decoyHash)
            return false
        }
        return Bcrypt.verify(password, hash: hash)
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
