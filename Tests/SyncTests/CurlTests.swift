import Sync
import Testing

@Suite("libcurl")
struct CurlTests {
    @Test func theLinkedLibcurlSpeaksHTTPAndHTTPSOverOpenSSL() throws {
        let info = Curl.info
        let major = try #require(Int(info.version.split(separator: ".").first ?? ""))
        #expect(major >= 7)
        #expect(info.protocols.isSuperset(of: ["http", "https"]))
        #expect(info.sslVersion?.lowercased().contains("openssl") == true)
    }
}
