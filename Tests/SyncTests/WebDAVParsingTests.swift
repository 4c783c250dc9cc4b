import Foundation
import Testing

@testable import Sync

@Suite("WebDAV answers as servers send them")
struct WebDAVParsingTests {
    @Test func lastModifiedDatesInEveryFormatServersUse() {
        let expected = Date(timeIntervalSince1970: 784_111_777)  // 1994-11-06 08:49:37 UTC
        for text in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov 6 08:49:37 1994", "1994-11-06T08:49:37Z"] {
            #expect(HTTPDate.parse(text) == expected, "\(text)")
        }
        #expect(HTTPDate.parse("yesterday") == nil)
    }

    /// RFC 1123 is read without a DateFormatter (thousands per listing): it agrees with the formatter on any date,
    /// and refuses what is not a date, however large its numbers.
    @Test func rfc1123IsReadFastAndAgreesWithTheFormatter() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let date = Date(timeIntervalSince1970: Double(Int.random(in: 0...4_102_444_800, using: &generator)))
            let text = formatter.string(from: date)
            #expect(HTTPDate.rfc1123(text) == date, "\(text)")
        }
        for text in [
            "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 99999999999999999999 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:49:37 GMT", "Sun, 06 Nov 1994 08:49 GMT", "Sun, 06 Nov 1994 08:49:37 CET", "Sun, -6 Nov 1994 08:49:37 GMT",
        ] {
            #expect(HTTPDate.rfc1123(text) == nil, "\(text)")
        }
    }

    @Test func aMultistatusIsReadPerPropstatWithChecksumsAndDecodedPaths() throws {
        let xml = """
            <?xml version="1.0"?>
            <d:multistatus xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">
              <d:response><d:href>/dav/root/</d:href>
                <d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype><d:getetag>"dir1"</d:getetag></d:prop>
                <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
              <d:response><d:href>http://host/dav/root/fab/Bilan%20%C3%A9t%C3%A9%20%2350%25.pdf</d:href>
                <d:propstat><d:prop><d:resourcetype/><d:getetag>W/"abc"</d:getetag><d:getcontentlength>1234</d:getcontentlength>
                  <d:getlastmodified>Sun, 06 Nov 1994 08:49:37 GMT</d:getlastmodified>
                  <oc:checksums><oc:checksum>SHA1:AB12 MD5:cd34</oc:checksum></oc:checksums></d:prop>
                <d:status>HTTP/1.1 200 OK</d:status></d:propstat>
                <d:propstat><d:prop><d:getcontentlength>999</d:getcontentlength></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>
              </d:response>
            </d:multistatus>
            """
        let entries = try MultistatusParser.parse(Data(xml.utf8), basePath: "/dav/root")
        #expect(entries.count == 2)
        #expect(entries[0].path == "" && entries[0].isCollection && entries[0].etag == "\"dir1\"")
        let file = entries[1]
        #expect(file.path == "fab/Bilan été #50%.pdf" && !file.isCollection)
        #expect(
            file.etag == "W/\"abc\"" && file.etagIsWeak && file.length == 1234
                && file.lastModified == Date(timeIntervalSince1970: 784_111_777))
        #expect(file.checksums == ["SHA1": "ab12", "MD5": "cd34"])
        #expect(throws: WebDAVError.self) { try MultistatusParser.parse(Data("<not xml".utf8), basePath: "/") }
    }

    @Test func segmentsAreEncodedSoEveryCharacterTravels() {
        let client = WebDAVClient(base: URL(string: "http://127.0.0.1:1/dav/")!, http: HTTPClient())
        #expect(
            client.url("fab/missions/2023-0001/quote/devis \"final\" #2 50%.pdf")
                == "http://127.0.0.1:1/dav/fab/missions/2023-0001/quote/devis%20%22final%22%20%232%2050%25.pdf")
        #expect(client.url("fab/dossier", collection: true) == "http://127.0.0.1:1/dav/fab/dossier/")
        #expect(client.url("") == "http://127.0.0.1:1/dav/")
        #expect(WebDAVClient.normalizedETag("W/\"x\"") == "W/\"x\"" && WebDAVClient.normalizedETag("\"y\"") == "\"y\"")
        #expect(WebDAVClient.normalizedETag("16393328-1795786316-5") == "\"16393328-1795786316-5\"")
    }
}
