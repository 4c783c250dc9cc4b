import Domain
import Foundation
import Storage

extension APIHandler {
    func signUpExpert(_ input: Operations.SignUpExpert.Input) async throws -> Operations.SignUpExpert.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedBody }
        let address = RequestInfo.current.address
        let (token, card) = try await storage {
            try database.signUpExpert(
                email: body.email, password: body.password, firstName: body.firstName, lastName: body.lastName, address: address)
        }
        return .created(
            .init(
                headers: .init(eTag: RevisionTag.etag(card.revision)),
                body: .json(.init(session: .init(token), expert: .init(card, actor: .owner)))))
    }

    func listExpertCards(_ input: Operations.ListExpertCards.Input) async throws -> Operations.ListExpertCards.Output {
        _ = try RequestInfo.account(in: [.admin])
        let limit = try pageLimit(input.query.limit)
        var after: Int64?
        if let cursor = input.query.cursor {
            guard let revision = Int64(cursor), revision >= 0 else {
                throw APIProblem.badParameter("cursor", "invalid_cursor", "Not a cursor of this list.")
            }
            after = revision
        }
        let state = input.query.state.flatMap { CardState(rawValue: $0.rawValue) }
        let page = try await storage { [after] in try database.expertCards(state: state, after: after, limit: limit) }
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.cards.map { .init($0, actor: .admin) }, nextCursor: page.next.map(String.init),
                        hasMore: page.next != nil))))
    }

    func getExpertCard(_ input: Operations.GetExpertCard.Input) async throws -> Operations.GetExpertCard.Output {
        let account = try RequestInfo.account()
        let card = try await storage { try database.expertCard(id: input.path.expertId, for: account) }
        return .ok(.init(headers: .init(eTag: RevisionTag.etag(card.revision)), body: .json(try await cardSchema(card, for: account))))
    }

    func updateExpertCard(_ input: Operations.UpdateExpertCard.Input) async throws -> Operations.UpdateExpertCard.Output {
        let account = try RequestInfo.account()
        guard case .json(let patch) = input.body else { throw APIProblem.unsupportedBody }
        _ = try await storage { try database.expertCard(id: input.path.expertId, for: account) }
        let expected = try RevisionTag.expected(ifMatch: input.headers.ifMatch)
        var declaration: NoInterestDeclaration?
        if let given = patch.declaration {
            guard let day = CalendarDate(iso: given.signedOn) else {
                throw APIProblem(StorageError.invalid([FieldError("/declaration/signed_on", "invalid_date", "A day as YYYY-MM-DD.")]))
            }
            declaration = NoInterestDeclaration(signatory: given.signatory, signedOn: day)
        }
        let parsed = declaration
        let card = try await storage {
            try database.updateExpertCard(id: input.path.expertId, by: account, ifRevision: expected) {
                $0.apply(patch, declaration: parsed)
            }
        }
        return .ok(.init(headers: .init(eTag: RevisionTag.etag(card.revision)), body: .json(try await cardSchema(card, for: account))))
    }

    func transitionExpertCard(_ input: Operations.TransitionExpertCard.Input) async throws -> Operations.TransitionExpertCard.Output {
        let account = try RequestInfo.account()
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedBody }
        _ = try await storage { try database.expertCard(id: input.path.expertId, for: account) }
        let expected = try RevisionTag.expected(ifMatch: input.headers.ifMatch)
        let action = CardAction(rawValue: body.action.rawValue)!
        let card = try await storage {
            try database.transitionExpertCard(
                id: input.path.expertId, action: action, by: account, ifRevision: expected, message: body.message, note: body.note)
        }
        return .ok(.init(headers: .init(eTag: RevisionTag.etag(card.revision)), body: .json(try await cardSchema(card, for: account))))
    }

    /// The card as `account` sees it: review notes for the programme team only.
    func cardSchema(_ card: ExpertCardRecord, for account: Account) async throws -> Components.Schemas.ExpertCard {
        let actor = account.cardActor(for: card.id)
        let reviews = actor == .admin ? try await storage { try database.reviewEntries(expertID: card.id) } : nil
        return .init(card, actor: actor, reviews: reviews)
    }

    /// `limit` between 1 and 100, 20 when absent.
    func pageLimit(_ limit: Int?) throws -> Int {
        guard let limit else { return 20 }
        guard (1...100).contains(limit) else { throw APIProblem.badParameter("limit", "out_of_range", "limit is 1 to 100.") }
        return limit
    }
}

extension Components.Schemas.ExpertCard {
    init(_ card: ExpertCardRecord, actor: CardActor, reviews: [ReviewEntry]? = nil) {
        let content = card.content
        self.init(
            id: card.id, slug: card.slug, state: .init(rawValue: card.state.rawValue)!, revision: card.revision,
            createdAt: card.createdAt, updatedAt: card.updatedAt, publishedAt: card.publishedAt,
            firstName: content.firstName, lastName: content.lastName,
            organisation: .init(name: content.organisation.name, siret: content.organisation.siret),
            contact: .init(email: content.contact.email, phone: content.contact.phone, website: content.contact.website),
            summary: content.summary, subthemes: content.subthemeCodes, coverage: .init(content.coverage), sectors: content.sectors,
            experiences: content.experiences.map(Components.Schemas.Experience.init),
            declaration: content.declaration.map { .init(signatory: $0.signatory, signedOn: $0.signedOn.iso) },
            publication: .init(email: content.publication.email, phone: content.publication.phone, website: content.publication.website),
            message: card.message,
            allowedActions: CardWorkflow.allowedActions(in: card.state, for: actor).map { .init(rawValue: $0.rawValue)! },
            reviewNotes: reviews?.map {
                .init(action: .init(rawValue: $0.action.rawValue)!, authorId: $0.authorID, at: $0.at, message: $0.message, note: $0.note)
            })
    }
}

extension Components.Schemas.Coverage {
    init(_ coverage: Coverage) {
        self.init(
            regions: coverage.regionCodes, departments: coverage.departmentCodes, national: coverage.national, remote: coverage.remote)
    }
}

extension Components.Schemas.Experience {
    init(_ experience: PriorExperience) {
        self.init(tiersLieu: experience.tiersLieu, description: experience.description, productive: experience.productive)
    }
}

extension ExpertCardContent {
    /// Fields present in the patch replace the stored ones; `declaration` is the patch's, its date already read.
    mutating func apply(_ patch: Components.Schemas.ExpertCardPatch, declaration: NoInterestDeclaration?) {
        if let declaration { self.declaration = declaration }
        if let value = patch.firstName { firstName = value }
        if let value = patch.lastName { lastName = value }
        if let value = patch.organisation { organisation = Organisation(name: value.name, siret: value.siret) }
        if let value = patch.contact { contact = ContactDetails(email: value.email, phone: value.phone, website: value.website) }
        if let value = patch.summary { summary = value }
        if let value = patch.subthemes { subthemeCodes = value }
        if let value = patch.coverage {
            coverage = Coverage(
                regionCodes: value.regions, departmentCodes: value.departments, national: value.national, remote: value.remote)
        }
        if let value = patch.sectors { sectors = value }
        if let value = patch.experiences {
            experiences = value.map { PriorExperience(tiersLieu: $0.tiersLieu, description: $0.description, productive: $0.productive) }
        }
        if let value = patch.publication {
            publication = PublicationConsent(email: value.email, phone: value.phone, website: value.website)
        }
    }
}
