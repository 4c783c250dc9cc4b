import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Testing

/// Every account and expert operation for every caller: anonymous, the card's own expert, another expert, a
/// laureate member and an admin. Each row is run on a fresh cast, so no call depends on another's side effects.
@Suite("Who reaches what")
struct PermissionMatrixTests {
    struct Row: Sendable, CustomStringConvertible {
        let method: HTTPRequest.Method
        let path: String
        let body: [String: String]?
        let ifMatch: Bool
        /// anonymous, owner, other expert, laureate, admin
        let expected: [HTTPResponse.Status]
        var description: String { "\(method) \(path)" }
    }

    static let card = "{card}"
    static let rows: [Row] = [
        Row(method: .get, path: "/v1/me", body: nil, ifMatch: false, expected: [.unauthorized, .ok, .ok, .ok, .ok]),
        Row(method: .get, path: "/v1/me/tokens", body: nil, ifMatch: false, expected: [.unauthorized, .ok, .ok, .ok, .ok]),
        Row(
            method: .post, path: "/v1/me/tokens", body: ["name": "CRM"], ifMatch: false,
            expected: [.unauthorized, .created, .created, .created, .created]),
        Row(
            method: .delete, path: "/v1/me/tokens/unknown", body: nil, ifMatch: false,
            expected: [.unauthorized, .notFound, .notFound, .notFound, .notFound]),
        Row(
            method: .delete, path: "/v1/auth/token", body: nil, ifMatch: false,
            expected: [.unauthorized, .noContent, .noContent, .noContent, .noContent]),
        Row(
            method: .get, path: "/v1/experts", body: nil, ifMatch: false,
            expected: [.unauthorized, .forbidden, .forbidden, .forbidden, .ok]),
        Row(
            method: .get, path: "/v1/experts/\(card)", body: nil, ifMatch: false, expected: [.unauthorized, .ok, .notFound, .notFound, .ok]),
        Row(
            method: .patch, path: "/v1/experts/\(card)", body: ["summary": "x"], ifMatch: true,
            expected: [.unauthorized, .ok, .notFound, .notFound, .forbidden]),
        Row(
            method: .post, path: "/v1/experts/\(card)/transitions", body: ["action": "submit"], ifMatch: true,
            expected: [.unauthorized, .ok, .notFound, .notFound, .forbidden]),
        Row(
            method: .post, path: "/v1/experts/\(card)/transitions", body: ["action": "withdraw"], ifMatch: true,
            expected: [.unauthorized, .ok, .notFound, .notFound, .forbidden]),
        Row(
            method: .post, path: "/v1/experts/\(card)/transitions", body: ["action": "reject"], ifMatch: true,
            expected: [.unauthorized, .forbidden, .notFound, .notFound, .conflict]),
        Row(method: .get, path: "/v1/directory/experts", body: nil, ifMatch: false, expected: [.ok, .ok, .ok, .ok, .ok]),
        Row(method: .get, path: "/v1/taxonomy", body: nil, ifMatch: false, expected: [.ok, .ok, .ok, .ok, .ok]),
    ]

    @Test(arguments: rows)
    func eachCallerGetsTheExpectedStatus(_ row: Row) async throws {
        for (index, caller) in try Cast.make().everyone.enumerated() {
            let cast = try Cast.make()
            let token = [nil, cast.owner, cast.otherExpert, cast.laureate, cast.admin][index]
            try await makeApplication(database: cast.database).test(.router) { client in
                let path = row.path.replacingOccurrences(of: Self.card, with: cast.ownerExpertID)
                var headers: HTTPFields = [:]
                if row.ifMatch {
                    headers[.ifMatch] = try await client.send(.get, "/v1/experts/\(cast.ownerExpertID)", token: cast.admin).etag
                }
                let reply = try await client.send(row.method, path, token: token, json: row.body, headers: headers)
                #expect(reply.status == row.expected[index], "\(row) as \(caller.name): \(reply.code ?? "")")
                if reply.status.code >= 400 {
                    #expect(reply.headers[.contentType] == "application/problem+json", "\(row) as \(caller.name)")
                }
            }
        }
    }
}
