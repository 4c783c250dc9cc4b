import Domain
import Foundation
import OpenAPIRuntime
import Storage

extension APIHandler {
    func exportMyData(_ input: Operations.ExportMyData.Input) async throws -> Operations.ExportMyData.Output {
        let account = try RequestInfo.account(in: [.admin, .expert, .laureate])
        let data = try await storage { try database.personalData(for: account).json() }
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: any Sendable] else {
            throw APIProblem(.internalServerError, code: "internal_error", title: "Internal error")
        }
        let name = "mes-donnees-\(Spreadsheet.parisDay(database.now).iso).json"
        return .ok(
            .init(
                headers: .init(contentDisposition: Self.contentDisposition(name)),
                body: .json(.init(additionalProperties: try OpenAPIObjectContainer(unvalidatedValue: object)))))
    }

    func eraseMe(_ input: Operations.EraseMe.Input) async throws -> Operations.EraseMe.Output {
        let account = try RequestInfo.account(in: [.expert, .laureate])
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedBody }
        let tokenID = RequestInfo.current.caller?.tokenID
        let erased = try await storage { try database.erase(account: account, confirmingEmail: body.confirmEmail, tokenID: tokenID) }
        return .ok(.init(body: .json(.init(pseudonym: erased.pseudonym, erasedAt: erased.erasedAt))))
    }

    func eraseExpert(_ input: Operations.EraseExpert.Input) async throws -> Operations.EraseExpert.Output {
        let account = try RequestInfo.account()
        // Who may not know the card gets 404 first; its expert and other roles who see it, 403.
        _ = try await storage { try database.expertCard(id: input.path.expertId, for: account) }
        guard account.role == .admin else { throw APIProblem(StorageError.forbidden) }
        let expected = try RevisionTag.expected(ifMatch: input.headers.ifMatch)
        let erased = try await storage { try database.eraseExpert(id: input.path.expertId, by: account, ifRevision: expected) }
        return .ok(.init(body: .json(.init(pseudonym: erased.pseudonym, erasedAt: erased.erasedAt))))
    }
}
