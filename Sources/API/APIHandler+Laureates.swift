import Domain
import Foundation
import Storage

extension APIHandler {
    func listLaureates(_ input: Operations.ListLaureates.Input) async throws -> Operations.ListLaureates.Output {
        let account = try RequestInfo.account()
        let limit = try pageLimit(input.query.limit)
        let laureates = try await storage { try database.laureates(for: account) }
        let page = try PageCursor.page(laureates, limit: limit, cursor: input.query.cursor) { [$0.laureate.name, $0.laureate.id] }
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.items.map { .init($0.laureate, hasFramingNote: $0.hasFramingNote) }, nextCursor: page.next,
                        hasMore: page.more))))
    }

    func createLaureate(_ input: Operations.CreateLaureate.Input) async throws -> Operations.CreateLaureate.Output {
        let account = try RequestInfo.account(in: [.admin])
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedBody }
        let laureate = try await storage {
            try database.createLaureate(
                name: body.name, legalEntity: body.legalEntity, siret: body.siret, communeINSEE: body.communeInsee,
                communeName: body.communeName, departmentCode: body.department,
                territoryTypes: Set(body.territoryTypes.compactMap { TerritoryType(rawValue: $0.rawValue) }), cohort: body.cohort,
                sectors: body.sectors ?? [], supportCeilingCents: Int(body.supportCeilingCents), settings: settings, by: account)
        }
        let created = try await storage { try database.laureate(id: laureate.id, for: account) }
        return .created(
            .init(headers: .init(eTag: RevisionTag.etag(created.revision)), body: .json(.init(created.laureate, hasFramingNote: false))))
    }

    func getLaureate(_ input: Operations.GetLaureate.Input) async throws -> Operations.GetLaureate.Output {
        let account = try RequestInfo.account()
        let found = try await storage { try database.laureate(id: input.path.laureateId, for: account) }
        return .ok(
            .init(
                headers: .init(eTag: RevisionTag.etag(found.revision)),
                body: .json(.init(found.laureate, hasFramingNote: found.hasFramingNote))))
    }

    func updateLaureate(_ input: Operations.UpdateLaureate.Input) async throws -> Operations.UpdateLaureate.Output {
        let account = try RequestInfo.account()
        guard case .json(let patch) = input.body else { throw APIProblem.unsupportedBody }
        _ = try await storage { try database.laureate(id: input.path.laureateId, for: account) }
        let expected = try RevisionTag.expected(ifMatch: input.headers.ifMatch)
        let updated = try await storage {
            try database.updateLaureate(id: input.path.laureateId, by: account, ifRevision: expected) { laureate in
                if let value = patch.name { laureate.name = value }
                if let value = patch.legalEntity { laureate.legalEntity = value }
                if let value = patch.siret { laureate.siret = value }
                if let value = patch.communeInsee { laureate.communeINSEE = value }
                if let value = patch.communeName { laureate.communeName = value }
                if let value = patch.department { laureate.departmentCode = value }
                if let value = patch.territoryTypes {
                    laureate.territoryTypes = Set(value.compactMap { TerritoryType(rawValue: $0.rawValue) })
                }
                if let value = patch.cohort { laureate.cohort = value }
                if let value = patch.sectors { laureate.sectors = value }
                if let value = patch.supportCeilingCents { laureate.supportCeilingCents = Int(clamping: value) }
            }
        }
        return .ok(
            .init(
                headers: .init(eTag: RevisionTag.etag(updated.revision)),
                body: .json(.init(updated.laureate, hasFramingNote: updated.hasFramingNote))))
    }

    func createLaureateMember(_ input: Operations.CreateLaureateMember.Input) async throws -> Operations.CreateLaureateMember.Output {
        let admin = try RequestInfo.account(in: [.admin])
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedBody }
        _ = try await storage { try database.laureate(id: input.path.laureateId) }
        let member = try await storage {
            try database.createAccount(
                email: body.email, password: body.password, role: .laureate, displayName: body.displayName,
                link: .laureate(id: input.path.laureateId), by: admin)
        }
        let created = Components.Schemas.Me(member)
        return .created(.init(headers: .init(eTag: EntityTag(ofJSON: created).description), body: .json(created)))
    }

    func listFramingNotes(_ input: Operations.ListFramingNotes.Input) async throws -> Operations.ListFramingNotes.Output {
        let account = try RequestInfo.account()
        let limit = try pageLimit(input.query.limit)
        let notes = try await storage { try database.framingNotes(laureateID: input.path.laureateId, for: account) }
        // Versions in order: the key is the version number, zero-padded so that text order is number order.
        let page = try PageCursor.page(notes, limit: limit, cursor: input.query.cursor) {
            [PageCursor.ascendingKey($0.note.version)]
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.items.map { .init($0.note, createdAt: $0.createdAt, authorID: $0.authorID) }, nextCursor: page.next,
                        hasMore: page.more))))
    }

    func reviseFramingNote(_ input: Operations.ReviseFramingNote.Input) async throws -> Operations.ReviseFramingNote.Output {
        let account = try RequestInfo.account()
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedBody }
        let needs = body.needs.map {
            Need(subthemeCode: $0.subtheme, priority: NeedPriority(rawValue: $0.priority.rawValue)!, description: $0.description)
        }
        let revised = try await storage {
            try database.reviseFramingNote(laureateID: input.path.laureateId, needs: needs, documentID: body.documentId, by: account)
        }
        let note = Components.Schemas.FramingNote(revised.note, createdAt: revised.createdAt, authorID: account.id)
        return .created(.init(headers: .init(eTag: EntityTag(ofJSON: note).description), body: .json(note)))
    }

    func getLaureateBudget(_ input: Operations.GetLaureateBudget.Input) async throws -> Operations.GetLaureateBudget.Output {
        let account = try RequestInfo.account()
        let budget = try await storage { try database.budget(laureateID: input.path.laureateId, for: account) }
        let body = Components.Schemas.Budget(
            laureateId: budget.laureateID, ceilingCents: Int64(budget.ceilingCents), committedCents: Int64(budget.committedCents),
            heldCents: Int64(budget.heldCents), spentCents: Int64(budget.spentCents), remainingCents: Int64(budget.remainingCents),
            currency: .eur,
            missions: budget.lines.map {
                .init(
                    missionId: $0.missionID, ref: $0.ref, title: $0.title, state: .init(rawValue: $0.state.rawValue)!,
                    shareCents: Int64($0.shareCents), validated: $0.validated)
            })
        return .ok(.init(headers: .init(eTag: EntityTag(ofJSON: body).description), body: .json(body)))
    }

    func listConflicts(_ input: Operations.ListConflicts.Input) async throws -> Operations.ListConflicts.Output {
        _ = try RequestInfo.account(in: [.admin])
        let limit = try pageLimit(input.query.limit)
        let conflicts = try await storage { try database.conflicts() }
        let page = try PageCursor.page(conflicts, limit: limit, cursor: input.query.cursor) { [$0.expertID, $0.laureateID] }
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.items.map {
                            .init(expertId: $0.expertID, laureateId: $0.laureateID, reason: $0.reason, recordedAt: $0.recordedAt)
                        }, nextCursor: page.next, hasMore: page.more))))
    }

    func recordConflict(_ input: Operations.RecordConflict.Input) async throws -> Operations.RecordConflict.Output {
        let account = try RequestInfo.account(in: [.admin])
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedBody }
        try await storage {
            try database.recordConflict(expertID: body.expertId, laureateID: body.laureateId, reason: body.reason, by: account)
        }
        return .noContent(.init())
    }
}

extension Components.Schemas.Laureate {
    init(_ laureate: Laureate, hasFramingNote: Bool) {
        self.init(
            id: laureate.id, name: laureate.name, slug: laureate.slug, legalEntity: laureate.legalEntity, siret: laureate.siret,
            communeInsee: laureate.communeINSEE, communeName: laureate.communeName, department: laureate.departmentCode,
            region: laureate.regionCode ?? "",
            territoryTypes: laureate.territoryTypes.map(\.rawValue).sorted().compactMap { .init(rawValue: $0) },
            cohort: laureate.cohort, sectors: laureate.sectors, supportCeilingCents: Int64(laureate.supportCeilingCents), currency: .eur,
            hasFramingNote: hasFramingNote)
    }
}

extension Components.Schemas.FramingNote {
    init(_ note: FramingNoteVersion, createdAt: Date, authorID: String) {
        self.init(
            laureateId: note.laureateID, version: note.version,
            needs: note.needs.map {
                .init(subtheme: $0.subthemeCode, priority: .init(rawValue: $0.priority.rawValue)!, description: $0.description)
            },
            documentId: note.documentID, createdAt: createdAt, authorId: authorID)
    }
}

extension APIHandler {
    func getLaureateTeam(_ input: Operations.GetLaureateTeam.Input) async throws -> Operations.GetLaureateTeam.Output {
        let account = try RequestInfo.account()
        let limit = try pageLimit(input.query.limit)
        let team = try await storage { try database.team(laureateID: input.path.laureateId, for: account) }
        let page = try PageCursor.page(team, limit: limit, cursor: input.query.cursor) { [$0.orderKey, $0.expert.expertID] }
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.items.map { entry in
                            .init(
                                expert: .init(entry.expert),
                                missions: entry.missions.map {
                                    .init(id: $0.id, ref: $0.ref, title: $0.title, state: .init(rawValue: $0.state.rawValue) ?? .requested)
                                })
                        }, nextCursor: page.next, hasMore: page.more))))
    }
}
