import CCurl
import Crypto
import Domain
import Foundation

/// Standard Webhooks signatures (https://www.standardwebhooks.com): a secret `whsec_<base64 of 24 random bytes>`, and
/// `webhook-signature: v1,<base64 of HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")>`.
public enum WebhookSignature {
    /// The `webhook-signature` header of `body` sent as message `id` at `timestamp` (seconds since 1970); nil when the
    /// secret is not a `whsec_` base64 key.
    public static func sign(id: String, timestamp: Int, body: [UInt8], secret: String) -> String? {
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))), !key.isEmpty else { return nil }
        var signed = Array("\(id).\(timestamp).".utf8)
        signed += body
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }
}

/// Where webhook requests go: an HTTP POST, answered by a status (thrown when no answer came).
public protocol WebhookTransport: Sendable {
    func post(url: String, headers: [(String, String)], body: [UInt8]) async throws -> Int
}

/// POSTs over libcurl: no redirects followed, a connection timeout and a whole-request timeout, the answer's body read
/// and dropped (at most 64 KiB of it). Each address a connection is about to be made to passes `WebhookRules.mayDeliver`
/// first: private networks only where `allowPrivateNetworks`, link-local never (a receiver's host name resolving to
/// the server's own machine or network is refused before any byte is sent).
public struct CurlWebhookPoster: WebhookTransport {
    public let timeout: TimeInterval
    public let allowPrivateNetworks: Bool

    public init(timeout: TimeInterval = 10, allowPrivateNetworks: Bool = false) {
        self.timeout = timeout
        self.allowPrivateNetworks = allowPrivateNetworks
    }

    /// What one request's socket callback knows and learns: the rule's setting, and the addresses it refused.
    final class AddressCheck {
        let allowPrivateNetworks: Bool
        var refused: [String] = []
        /// Whether a refused address is one no setting allows (link-local, multicast, unspecified).
        var neverAllowed = false

        init(allowPrivateNetworks: Bool) { self.allowPrivateNetworks = allowPrivateNetworks }

        static func text(_ address: [UInt8]) -> String {
            address.count == 4
                ? address.map(String.init).joined(separator: ".")
                : stride(from: 0, to: address.count, by: 2).map { String(Int(address[$0]) << 8 | Int(address[$0 + 1]), radix: 16) }
                    .joined(separator: ":")
        }
    }

    /// Requests run a few at a time, off the threads that serve requests (libcurl's calls block).
    static let queue = DispatchQueue(label: "mdp.webhooks", attributes: .concurrent)
    private static let initialised: Bool = curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK

    public func post(url: String, headers: [(String, String)], body: [UInt8]) async throws -> Int {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
            Self.queue.async { continuation.resume(with: Result { try self.postBlocking(url: url, headers: headers, body: body) }) }
        }
    }

    private func postBlocking(url: String, headers: [(String, String)], body: [UInt8]) throws -> Int {
        _ = Self.initialised
        guard let handle = curl_easy_init() else { throw MailError.notSent("libcurl could not start") }
        defer { curl_easy_cleanup(handle) }
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in headers + [("Expect", "")] { list = curl_slist_append(list, "\(name): \(value)") }
        defer { curl_slist_free_all(list) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let check = AddressCheck(allowPrivateNetworks: allowPrivateNetworks)
        let checkPointer = Unmanaged.passUnretained(check).toOpaque()
        let code = errorBuffer.withUnsafeMutableBufferPointer { errors -> CURLcode in
            body.withUnsafeBufferPointer { bytes -> CURLcode in
                mdp_curl_setopt_string(handle, CURLOPT_URL, url)
                mdp_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
                mdp_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
                mdp_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errors.baseAddress)
                mdp_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(min(timeout, 5) * 1000))
                mdp_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
                mdp_curl_setopt_long(handle, CURLOPT_POST, 1)
                mdp_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list))
                mdp_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
                mdp_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                mdp_curl_setopt_long(handle, CURLOPT_MAXFILESIZE, 1 << 16)
                // The answer's body is not kept: only its status counts.
                mdp_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, { _, size, count, _ in size * count })
                mdp_curl_setopt_pointer(handle, CURLOPT_OPENSOCKETDATA, checkPointer)
                mdp_curl_setopt_opensocket(handle) { userdata, _, address in
                    guard let userdata, let address else { return mdp_curl_socket_bad() }
                    let check = Unmanaged<AddressCheck>.fromOpaque(userdata).takeUnretainedValue()
                    var bytes = [UInt8](repeating: 0, count: 16)
                    let length = Int(mdp_curl_sockaddr_bytes(address, &bytes))
                    let found = Array(bytes.prefix(length))
                    guard WebhookRules.mayDeliver(to: found, allowPrivateNetworks: check.allowPrivateNetworks) else {
                        check.refused.append(AddressCheck.text(found))
                        if !WebhookRules.mayDeliver(to: found, allowPrivateNetworks: true) { check.neverAllowed = true }
                        return mdp_curl_socket_bad()
                    }
                    return socket(address.pointee.family, address.pointee.socktype, address.pointee.protocol)
                }
                return curl_easy_perform(handle)
            }
        }
        withExtendedLifetime(check) {}
        if code != CURLE_OK, !check.refused.isEmpty {
            let addresses = check.refused.joined(separator: ", ")
            throw MailError.notSent(
                check.neverAllowed
                    ? "the receiver's address (\(addresses)) is link-local, multicast or unspecified: webhooks never go there"
                    : "the receiver's address (\(addresses)) is not on the public internet; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to deliver inside your network"
            )
        }
        var status = 0
        mdp_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        guard code == CURLE_OK || (code == CURLE_FILESIZE_EXCEEDED && status > 0) else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw MailError.notSent(detail.isEmpty ? "no answer (curl \(code.rawValue))" : detail)
        }
        return status
    }
}
