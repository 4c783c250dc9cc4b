import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Storage

/// `Idempotency-Key` on POST: the first response (success or refusal) is kept 24 h and replayed to retries of the same
/// request by the same caller, so a mobile app retrying after a lost answer never doubles anything. The same key
/// with another request is 422; a retry while the first is still running is 409. Server failures are not kept.
struct IdempotencyMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let database: AppDatabase

    /// The key the request being served claimed, for the writes that carry it out.
    @TaskLocal static var claim: IdempotencyClaim.Key?

    /// What a retry gets when the first request's write was committed but the server stopped before keeping its answer.
    static var answerLost: StoredResponse {
        let problem = APIProblem(
            .conflict, code: "idempotency_answer_lost", title: "The first request with this key was carried out",
            detail: "The server stopped before it could answer. Read the resource to see the result; do not send it again.")
        let response = ProblemMiddleware<Context>.response(for: problem)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return StoredResponse(
            status: problem.status.code, headers: response.headers.map { [$0.name.rawName, $0.value] },
            body: (try? encoder.encode(problem.schema)) ?? Data())
    }

    /// A password login issues a new token each time and changes nothing else: its key is not kept.
    static let notKept: Set<String> = ["/v1/auth/token"]
    /// Answers that carry a new secret (a sign-up's session, a personal token, a webhook subscription's signing secret):
    /// the secret is never stored, so a retry
    /// with the same key is told the first request succeeded instead of getting the token again (which could be revoked
    /// by then).
    static let carrySecrets: Set<String> = ["/v1/experts", "/v1/me/tokens", "/v1/webhook-subscriptions"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, let key = request.headers[.idempotencyKey] else { return try await next(request, context) }
        guard (1...200).contains(key.count) else {
            throw APIProblem.badParameter("Idempotency-Key", "invalid", "An idempotency key has 1 to 200 characters.")
        }
        guard !Self.notKept.contains(request.uri.path) else { return try await next(request, context) }
        let scope = RequestInfo.current.caller.map { "user:\($0.account.id)" } ?? "anonymous:\(RequestInfo.current.address)"
        var request = request
        var hasher = SHA256()
        hasher.update(data: Data("\(request.method.rawValue) \(request.uri.description)\n".utf8))
        let isUpload = request.headers[.contentType]?.lowercased().hasPrefix("application/octet-stream") == true
        if isUpload {
            // A file is never buffered: its retry is recognised by its length and, when sent, its digest.
            let digest = request.headers[.contentSHA256] ?? ""
            hasher.update(data: Data("\(request.headers[.contentLength] ?? "?") \(digest)".utf8))
        } else {
            let body = try await request.body.collect(upTo: .max)
            request.body = .init(buffer: body)
            hasher.update(data: Self.canonical(Data(buffer: body)))
        }
        let fingerprint = Hex.string(hasher.finalize())

        let database = self.database
        let claim = UUID().uuidString
        switch try await storage({
            try database.beginIdempotent(scope: scope, key: key, fingerprint: fingerprint, claim: claim, answerLost: Self.answerLost)
        }) {
        case .replay(let stored):
            // A file's retry is the same request only if it carries the same bytes: the stored answer names the
            // document's digest, compared with the retry's body (read, hashed and dropped).
            if isUpload, let expected = Self.documentDigest(in: stored) {
                var digest = SHA256()
                for try await chunk in request.body { digest.update(data: Data(buffer: chunk)) }
                guard Hex.string(digest.finalize()) == expected else {
                    throw APIProblem(
                        .unprocessableContent, code: "idempotency_key_reused", title: "This Idempotency-Key was used for another file")
                }
            }
            var headers = HTTPFields()
            for pair in stored.headers where pair.count == 2 {
                if let name = HTTPField.Name(pair[0]) { headers.append(HTTPField(name: name, value: pair[1])) }
            }
            headers[.idempotentReplayed] = "true"
            return Response(
                status: HTTPResponse.Status(code: stored.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: stored.body)))
        case .mismatch:
            throw APIProblem(
                .unprocessableContent, code: "idempotency_key_reused", title: "This Idempotency-Key was used for another request")
        case .inProgress:
            throw APIProblem(
                .conflict, code: "idempotency_in_progress", title: "The first request with this key is still running",
                detail: "Send it again in a moment: it will get the first request's answer.", headers: [.retryAfter: "5"])
        case .proceed:
            break
        }

        let response: Response
        do {
            response = try await Self.$claim.withValue(IdempotencyClaim.Key(scope: scope, key: key, claim: claim)) {
                try await next(request, context)
            }
        } catch {
            let problem = ProblemMiddleware<Context>.problem(for: error)
            // A server fault, or a body that never arrived whole (the client was cut off mid-upload): the request
            // was not carried out as sent, so its key stays free for the retry.
            // A body that never arrived whole, or not as declared (`digest_mismatch`: cut, altered or the wrong file),
            // was not the request the key names: its key stays free for the retry with the right bytes.
            guard problem.status.kind != .serverError, !ProblemMiddleware<Context>.isUnreadBody(error),
                !["digest_mismatch", "upload_expired"].contains(problem.code)
            else {
                _ = try? await storage { try database.settleIdempotent(scope: scope, key: key, claim: claim, answerLost: Self.answerLost) }
                throw error
            }
            response = ProblemMiddleware<Context>.response(for: problem)
        }
        guard response.status.kind != .serverError else {
            _ = try? await storage { try database.settleIdempotent(scope: scope, key: key, claim: claim, answerLost: Self.answerLost) }
            return response
        }
        let collector = DirectoryResponseCache.Collector()
        try await response.body.write(collector)
        let stored: StoredResponse
        if Self.carrySecrets.contains(request.uri.path) && response.status.kind == .successful {
            let problem = ProblemMiddleware<Context>.response(
                for: APIProblem(
                    .conflict, code: "token_not_replayed", title: "The first request with this key succeeded",
                    detail: request.uri.path == "/v1/webhook-subscriptions"
                        ? "A subscription's signing secret is shown once and never stored for replay: list the subscriptions; if the secret was lost, delete the subscription and create it again."
                        : "Tokens are never stored, so its answer cannot be sent again: log in, or list your tokens."))
            let body = DirectoryResponseCache.Collector()
            try await problem.body.write(body)
            stored = StoredResponse(
                status: problem.status.code, headers: problem.headers.map { [$0.name.rawName, $0.value] }, body: Data(buffer: body.buffer))
        } else {
            let headers = response.headers.map { [$0.name.rawName, $0.value] }
            stored = StoredResponse(status: response.status.code, headers: headers, body: Data(buffer: collector.buffer))
        }
        // The request was carried out: its answer is the client's whatever happens to the copy kept for retries. Kept
        // after a few tries, or not (the database was lost meanwhile): a retry is then answered `idempotency_in_progress`
        // until the lease ends, then told it was carried out; never "busy, nothing applied".
        for pause in [0, 200, 1_000] {
            if pause > 0 { try? await Task.sleep(for: .milliseconds(pause)) }
            if (try? await storage({ try database.finishIdempotent(scope: scope, key: key, claim: claim, response: stored) })) != nil {
                break
            }
        }
        return Response(status: response.status, headers: response.headers, body: .init(byteBuffer: collector.buffer))
    }
}

/// The answer kept, at start, for keys whose request was carried out but never answered (`mdp serve` settles them).
public func idempotencyAnswerLost() -> StoredResponse { IdempotencyMiddleware.answerLost }

extension IdempotencyMiddleware {
    /// The `sha256` of the document a stored upload answer describes, if it is one.
    static func documentDigest(in stored: StoredResponse) -> String? {
        guard (200..<300).contains(stored.status),
            let object = try? JSONSerialization.jsonObject(with: stored.body) as? [String: Any]
        else { return nil }
        return object["sha256"] as? String
    }

    /// A JSON body with its keys sorted, so the same request sent again with keys in another order is recognised.
    static func canonical(_ body: Data) -> Data {
        guard let object = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]),
            let sorted = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed])
        else { return body }
        return sorted
    }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
    /// The SHA-256 of an uploaded file, hex, when the client sends it.
    static let contentSHA256 = Self("X-Content-SHA256")!
}
