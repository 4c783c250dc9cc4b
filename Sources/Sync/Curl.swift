import CCurl

/// The libcurl this process runs on: the sync engine's transport to our API and to the WebDAV Drive.
public enum Curl {
    /// What the linked libcurl reports about itself.
    public struct Info: Sendable, Hashable {
        public let version: String
        public let sslVersion: String?
        public let protocols: Set<String>
    }

    /// Initialises libcurl once per process (thread safety needs it before any handle exists).
    private static let initialised: Bool = curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK

    /// The linked library's version, TLS backend and supported protocols.
    public static var info: Info {
        _ = initialised
        let data = mdp_curl_version_info().pointee
        var protocols: Set<String> = []
        if var cursor = data.protocols {
            while let name = cursor.pointee {
                protocols.insert(String(cString: name))
                cursor += 1
            }
        }
        return Info(
            version: String(cString: data.version),
            sslVersion: data.ssl_version.map { String(cString: $0) },
            protocols: protocols)
    }
}
