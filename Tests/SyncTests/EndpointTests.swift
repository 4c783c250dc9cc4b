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
