import Foundation
import HTTPTypes
import Hummingbird

/// The directory widget for other sites, shipped inside the binary under a versioned path: `annuaire.js` (a web
/// component other origins load with a `<script>` tag) and a demo page. A breaking change gets `/widget/v2/`.
enum Widget {
    static let path = "/widget/v1"

    struct Asset: Sendable {
        let body: ByteBuffer
        let headers: HTTPFields
    }

    static func asset(_ name: String, type: String, extra: HTTPFields = [:]) -> Asset {
        let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Widget")
        let data = url.flatMap { try? Data(contentsOf: $0) } ?? Data("/* \(name) was not bundled with this build */\n".utf8)
        var headers: HTTPFields = [
            .contentType: type, .cacheControl: "public, max-age=3600", .eTag: EntityTag(of: data).description,
        ]
        headers.append(contentsOf: extra)
        return Asset(body: ByteBuffer(bytes: data), headers: headers)
    }

    static func register(on router: Router<APIRequestContext>) {
        // Any site may load the script, also pages that isolate themselves (COEP): it reads only public endpoints.
        let script = asset(
            "annuaire.js", type: "text/javascript; charset=utf-8",
            extra: [.accessControlAllowOrigin: "*", .crossOriginResourcePolicy: "cross-origin"])
        let demo = asset(
            "demo.html", type: "text/html; charset=utf-8",
            extra: [
                .contentSecurityPolicy:
                    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            ])
        for (name, asset) in [("annuaire.js", script), ("demo.html", demo)] {
            router.get("\(path)/\(name)") { request, _ -> Response in
                if let tag = asset.headers[.eTag], let asked = request.headers[.ifNoneMatch],
                    EntityTag.matches(ifNoneMatch: asked, etag: tag)
                {
                    var headers = asset.headers
                    headers[.contentType] = nil
                    return Response(status: .notModified, headers: headers)
                }
                return Response(status: .ok, headers: asset.headers, body: .init(byteBuffer: asset.body))
            }
            // Caches and link checkers probe with HEAD: the same headers, no body.
            router.on("\(path)/\(name)", method: .head) { _, _ -> Response in
                var headers = asset.headers
                headers[.contentLength] = String(asset.body.readableBytes)
                return Response(status: .ok, headers: headers)
            }
        }
    }
}

extension HTTPField.Name {
    static let crossOriginResourcePolicy = Self("Cross-Origin-Resource-Policy")!
}
