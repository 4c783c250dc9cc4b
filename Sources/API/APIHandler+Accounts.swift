import Domain
import Foundation
import Storage

extension APIHandler {
    func createSessionToken(_ input: Operations.CreateSessionToken.Input) async throws -> Operations.CreateSessionToken.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedBody }
        // Task-locals do not travel to the blocking pool: read the address here.
        let address = RequestInfo.current.address
        let issued = try await storage { try database.login(email: body.email, password: body.password, address: address) }
        return .created(.init(body: .json(.init(issued))))
    }

    func revokeSessionToken(_ input: Operations.RevokeSessionToken.Input) async throws -> Operations.RevokeSessionToken.Output {
        let account = try RequestInfo.account()
        guard let tokenID = RequestInfo.current.caller?.tokenID else { throw APIProblem.notFound() }
        try await storage { try database.revokeToken(id: tokenID, userID: account.id) }
        return .noContent(.init())
    }

    func getMe(_ input: Operations.GetMe.Input) async throws -> Operations.GetMe.Output {
        let account = try RequestInfo.account()
        let reminders = try await storage { try database.receivesReminders(accountID: account.id) }
        let me = Components.Schemas.Me(account, reminders: reminders)
        return .ok(.init(headers: .init(eTag: EntityTag(ofJSON: me).description), body: .json(me)))
    }

    func updateMe(_ input: Operations.UpdateMe.Input) async throws -> Operations.UpdateMe.Output {
        let account = try RequestInfo.account(in: [.admin, .expert, .laureate])
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedBody }
        try await storage { try database.setReminders(accountID: account.id, on: body.reminders) }
        let me = Components.Schemas.Me(account, reminders: body.reminders)
        return .ok(.init(headers: .init(eTag: EntityTag(ofJSON: me).description), body: .json(me)))
    }

    func listPersonalTokens(_ input: Operations.ListPersonalTokens.Input) async throws -> Operations.ListPersonalTokens.Output {
        let account = try RequestInfo.account(in: [.admin, .expert, .laureate])
        let limit = try pageLimit(input.query.limit)
        let tokens = try await storage { try database.personalTokens(userID: account.id) }
        let page = try PageCursor.page(tokens, limit: limit, cursor: input.query.cursor) { [$0.id] }
        return .ok(
            .init(
                body: .json(.init(items: page.items.map(Components.Schemas.PersonalToken.init), nextCursor: page.next, hasMore: page.more)))
        )
    }

    func createPersonalToken(_ input: Operations.CreatePersonalToken.Input) async throws -> Operations.CreatePersonalToken.Output {
        let account = try RequestInfo.account(in: [.admin, .expert, .laureate])
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedBody }
        let issued = try await storage { try database.createPersonalToken(for: account, name: body.name, days: body.expiresInDays ?? 90) }
        return .created(.init(body: .json(.init(token: issued.secret, personalToken: .init(issued.record)))))
    }

    func revokePersonalToken(_ input: Operations.RevokePersonalToken.Input) async throws -> Operations.RevokePersonalToken.Output {
        let account = try RequestInfo.account(in: [.admin, .expert, .laureate])
        let tokens = try await storage { try database.personalTokens(userID: account.id) }
        guard tokens.contains(where: { $0.id == input.path.tokenId }) else { throw APIProblem.notFound("No such token of yours.") }
        try await storage { try database.revokeToken(id: input.path.tokenId, userID: account.id) }
        return .noContent(.init())
    }
}

extension APIProblem {
    static let unsupportedBody = APIProblem(.unsupportedMediaType, code: "unsupported_media_type", title: "Send application/json")
}

extension Components.Schemas.Me {
    init(_ account: Account, reminders: Bool = true) {
        let role: Components.Schemas.Role =
            switch account.role {
            case .admin: .admin
            case .expert: .expert
            case .laureate: .laureate
            case .sync: .sync
            }
        self.init(
            id: account.id, email: account.email, role: role, displayName: account.displayName, expertId: account.expertID,
            laureateId: account.laureateID, reminders: reminders)
    }
}

extension Components.Schemas.SessionToken {
    init(_ issued: IssuedToken) {
        self.init(token: issued.secret, tokenType: .bearer, expiresAt: issued.record.expiresAt, user: .init(issued.account))
    }
}

extension Components.Schemas.PersonalToken {
    init(_ record: TokenRecord) {
        self.init(
            id: record.id, name: record.name ?? "", createdAt: record.createdAt, expiresAt: record.expiresAt,
            lastUsedAt: record.lastUsedAt, revoked: record.revokedAt != nil)
    }
}
