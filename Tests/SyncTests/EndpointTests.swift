import Foundation
import Testing

@testable import Sync

/// The URLs `mdp sync` is given are checked before anything is sent, and messages never show credentials (an outside
/// tester saw `ftp://` wait 52 s, `file:///etc` read a local file, and a password printed back).
@Suite("Endpoints")
struct EndpointTests {
    @Test(arguments: [
        "ftp://127.0.0.1:21/drive", "file:///etc", "http://127.0.0.1:99999/drive", "http://127.0.0.1:0/drive",
        "http://127.0.0.1:8080/drive?x=1", "http://127.0.0.1:8080/drive#top", "http://user:secretpw@127.0.0.1:8080/drive",
        "http://user@127.0.0.1:8080/drive", "127.0.0.1:8080/drive", "http://", "",
        "http://127.0.0.1/" + String(repeating: "a", count: 3000),
    ])
    func aURLTheEngineCannotUseIsRefusedWithoutEchoingASecret(_ text: String) {
        #expect(throws: Endpoint.Invalid.self) { try Endpoint.parse(text, setting: "--webdav-url") }
        do {
            _ = try Endpoint.parse(text, setting: "--webdav-url")
        } catch {
            let message = String(describing: error)
            #expect(!message.contains("secretpw") && message.count < 300 && message.hasPrefix("--webdav-url"), "\(message)")
        }
    }

    @Test func httpAndHttpsURLsPassAndAreShownWithoutCredentials() throws {
        #expect(try Endpoint.parse("https://drive.example.fr/remote.php/dav/files/mdp", setting: "x").host == "drive.example.fr")
        #expect(try Endpoint.parse("HTTP://127.0.0.1:8080/Programme%20MDP/", setting: "x").port == 8080)
        let shown = Endpoint.display(URL(string: "http://user:secretpw@127.0.0.1:8080/drive/dossier?token=abc#x")!)
        #expect(shown == "http://127.0.0.1:8080/drive/dossier")
        #expect(Endpoint.display(URL(string: "http://127.0.0.1/" + String(repeating: "a", count: 500))!).count == 120)
    }

    @Test func statusErrorsReadAsSentences() {
        #expect(String(describing: WebDAVError.status(500, "nope")) == "the Drive answered 500: nope")
        #expect(String(describing: APIError.status(503, "")) == "the API answered 503")
    }
}

/// A run whose Drive went away stops trying after a few files instead of retrying every one (an outside tester saw
/// 437 files retried for 2 min 30 s against a dead proxy).
@Suite("The breaker")
struct BreakerTests {
    let unreachable = TransportError(code: 7, message: "Couldn't connect to server")  // CURLE_COULDNT_CONNECT

    @Test func itOpensAfterEnoughFilesInARowFoundNothingAnswering() {
        let breaker = Breaker()
        for _ in 1..<Breaker.limit { breaker.failed(unreachable) }
        #expect(!breaker.isOpen)
        breaker.failed(unreachable)
        #expect(breaker.isOpen)
    }

    @Test func anyOtherOutcomeInBetweenKeepsItClosed() {
        let breaker = Breaker()
        for index in 0..<(Breaker.limit * 3) {
            if index % 4 == 3 { breaker.succeeded() } else { breaker.failed(unreachable) }
        }
        #expect(!breaker.isOpen)
        for _ in 0..<(Breaker.limit * 2) { breaker.failed(WebDAVError.status(500, "")) }
        #expect(!breaker.isOpen)
    }
}

/// What an outside tester found in the reports: an href repeated in a listing taken for a twin of itself, twins that
/// look identical on screen, a NUL in a Drive name printed raw.
@Suite("Reports of odd listings")
struct OddListingTests {
    func entry(_ path: String) -> RemoteEntry {
        RemoteEntry(path: path, isCollection: false, etag: "\"1\"", length: 1, lastModified: nil, checksums: [:])
    }

    @Test func anHrefRepeatedInAListingIsOneFileNotATwin() {
        var listing = DriveListing()
        let path = "la-fabrique/dossier/application/plan.pdf"
        listing.noteFile(entry(path), known: [:])
        listing.noteFile(entry(path), known: [:])
        #expect(listing.twins.isEmpty && listing.files.count == 1)
        listing.noteFile(entry("la-fabrique/dossier/application/cafe\u{301}.pdf"), known: [:])
        listing.noteFile(entry("la-fabrique/dossier/application/caf\u{E9}.pdf"), known: [:])
        #expect(listing.twins.count == 1)
    }

    @Test func namesAreShownWithTheirFormAndWithoutControlCharacters() {
        #expect("caf\u{E9}.pdf".unicodeForm == "NFC" && "cafe\u{301}.pdf".unicodeForm == "NFD")
        #expect("a\u{0}b\u{202E}c\nd".printable == "a\\u{0}b\\u{202e}c\\u{a}d")
        #expect("dossier/plan été.pdf".printable == "dossier/plan été.pdf")
    }
}

/// A server's error page in a report line: its words, not its markup (outside tester: raw HTML of a 409 in `failed:`).
@Suite("Error pages")
struct ErrorPageTests {
    @Test func anHTMLErrorPageReadsAsOneShortLine() {
        let page = """
            <!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
            <html><head>
            <title>409 Conflict</title>
            </head><body>
            <h1>Conflict</h1>
            <p>Cannot PUT to a collection.</p>
            </body></html>
            """
        let line = WebDAVError.status(409, page).description
        #expect(line == "the Drive answered 409: 409 Conflict Conflict Cannot PUT to a collection.", "\(line)")
        #expect(WebDAVError.status(500, "").description == "the Drive answered 500")
        #expect(WebDAVError.status(500, String(repeating: "x ", count: 500)).description.count < 240)
        #expect(WebDAVError.redirected(301, to: "https://ailleurs.example/").description.contains("https://ailleurs.example/"))
    }
}
