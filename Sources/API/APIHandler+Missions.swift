import Domain
import Foundation
import Storage

extension APIHandler {
    func listMissions(_ input: Operations.ListMissions.Input) async throws -> Operations.ListMissions.Output {
        let account = try RequestInfo.account()
        let limit = try pageLimit(input.query.limit)
        let after = try deltaPosition(updatedAfter: input.query.updatedAfter, cursor: input.query.cursor)
        let page = try await storage { try database.missions(for: account, updatedAfter: after, limit: limit) }
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.missions.map { .init($0, for: account) }, removed: page.removed,
                        nextCursor: (page.next ?? page.missions.last?.revision ?? (after > 0 ? after : nil)).map(String.init),
                        hasMore: page.next != nil))))
    }

    func requestMission(_ input: Operations.RequestMission.Input) async throws -> Operations.RequestMission.Output {
        let account = try RequestInfo.account(in: [.laureate, .admin])
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedBody }
        let record = try await storage {
            try database.requestMission(
                title: body.title, subthemeCodes: body.subthemes ?? [], expertID: body.expertId, laureateIDs: body.laureateIds, by: account)
        }
        return .created(.init(headers: .init(eTag: RevisionTag.etag(record.revision)), body: .json(.init(record, for: account))))
    }

    func getMission(_ input: Operations.GetMission.Input) async throws -> Operations.GetMission.Output {
        let account = try RequestInfo.account()
        let record = try await storage { try database.mission(id: input.path.missionId, for: account) }
        return .ok(.init(headers: .init(eTag: RevisionTag.etag(record.revision)), body: .json(.init(record, for: account))))
    }

    func transitionMission(_ input: Operations.TransitionMission.Input) async throws -> Operations.TransitionMission.Output {
        let account = try RequestInfo.account()
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedBody }
        _ = try await storage { try database.mission(id: input.path.missionId, for: account) }
        let expected = try RevisionTag.expected(ifMatch: input.headers.ifMatch)
        let command = try MissionCommand(body)
        let record = try await storage {
            try database.transitionMission(id: input.path.missionId, command: command, by: account, ifRevision: expected)
        }
        return .ok(.init(headers: .init(eTag: RevisionTag.etag(record.revision)), body: .json(.init(record, for: account))))
    }

    func getMissionTimeline(_ input: Operations.GetMissionTimeline.Input) async throws -> Operations.GetMissionTimeline.Output {
        let account = try RequestInfo.account(in: [.admin, .expert, .laureate])
        let limit = try pageLimit(input.query.limit)
        let cursor = try eventCursor(input.query.cursor)
        let mission = try await storage { try database.mission(id: input.path.missionId, for: account) }.mission
        var filter = EventFilter(subjectType: "mission", subjectID: input.path.missionId, newestFirst: input.query.order == .desc)
        filter.actorLaureates = mission.timelineLaureates(visibleTo: Caller(account: account))
        let page = try await storage { [filter] in try database.events(filter, after: cursor, limit: limit) }
        let next = page.events.last?.seq ?? cursor
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.events.map(Components.Schemas.Event.init), nextCursor: next.map(String.init), hasMore: page.more))))
    }

    func listEvents(_ input: Operations.ListEvents.Input) async throws -> Operations.ListEvents.Output {
        _ = try RequestInfo.account(in: [.admin])
        let query = input.query
        let limit = try pageLimit(query.limit)
        if let after = query.after, after < 0 {
            throw APIProblem.badParameter("after", "out_of_range", "An event number is zero or more.")
        }
        let cursor = try eventCursor(query.cursor) ?? query.after
        let filter = EventFilter(
            subjectType: query.subjectType?.rawValue, subjectID: query.subjectId, actorID: query.actorId, action: query.action,
            since: query.since, until: query.until, laureateID: query.laureateId, expertID: query.expertId,
            newestFirst: query.order == .desc)
        let errors = filter.errors()
        guard errors.isEmpty else {
            throw APIProblem(.badRequest, code: "invalid_parameter", title: "Some parameters are invalid", errors: errors)
        }
        let page = try await storage { try database.events(filter, after: cursor, limit: limit) }
        return .ok(.init(body: .json(.init(page, cursor: cursor))))
    }

    /// An event cursor is the number of the last event seen.
    private func eventCursor(_ cursor: String?) throws -> Int64? {
        guard let cursor else { return nil }
        guard let seq = Int64(cursor), seq >= 0 else {
            throw APIProblem.badParameter("cursor", "invalid_cursor", "Not a cursor of this list.")
        }
        return seq
    }
}

extension MissionCommand {
    /// The command a transition body asks for, its payload read; a payload missing for its action is a 422.
    init(_ body: Components.Schemas.MissionTransition) throws {
        func missing(_ pointer: String, _ what: String) -> APIProblem {
            APIProblem(
                .unprocessableContent, code: "validation_failed", title: "Some fields are invalid",
                errors: [FieldError(pointer, "required", "This action needs \(what).")])
        }
        switch body.action {
        case .scope: self = .scope
        case .propose:
            guard let diagnostic = body.diagnostic else { throw missing("/diagnostic", "a diagnostic") }
            guard let quote = body.quote else { throw missing("/quote", "a quote") }
            var errors: [FieldError] = []
            let start = CalendarDate(iso: diagnostic.startOn)
            let end = CalendarDate(iso: diagnostic.endOn)
            if start == nil { errors.append(FieldError("/diagnostic/start_on", "invalid_date", "A day as YYYY-MM-DD.")) }
            if end == nil { errors.append(FieldError("/diagnostic/end_on", "invalid_date", "A day as YYYY-MM-DD.")) }
            let validUntil = CalendarDate(iso: quote.validUntil)
            if validUntil == nil { errors.append(FieldError("/quote/valid_until", "invalid_date", "A day as YYYY-MM-DD.")) }
            var schedule: Domain.DateInterval?
            if let start, let end {
                schedule = Domain.DateInterval(start: start, end: end)
                if schedule == nil { errors.append(FieldError("/diagnostic/end_on", "before_start", "The mission ends after it starts.")) }
            }
            let bounded: (Int64, ClosedRange<Int64>) -> Int = { Int(clamping: min(max($0, $1.lowerBound), $1.upperBound)) }
            guard errors.isEmpty, let schedule, let validUntil else {
                throw APIProblem(.unprocessableContent, code: "validation_failed", title: "Some fields are invalid", errors: errors)
            }
            let proposal = Proposal(
                diagnostic: Diagnostic(
                    context: diagnostic.context, needs: diagnostic.needs, objectives: diagnostic.objectives, method: diagnostic.method,
                    deliverables: diagnostic.deliverables, schedule: schedule, daysHundredths: diagnostic.daysHundredths),
                quote: Quote(
                    lines: quote.lines.map {
                        QuoteLine(
                            label: $0.label,
                            quantityHundredths: bounded($0.quantityHundredths, -1...Int64(Quote.maxQuantityHundredths) + 1),
                            unitPriceCents: bounded($0.unitPriceCents, -1...Int64(Quote.maxUnitPriceCents) + 1))
                    }, vatRateBasisPoints: quote.vatRateBasisPoints, validUntil: validUntil))
            let shares = body.shares.map { shares in
                Dictionary(
                    shares.map { ($0.laureateId, bounded($0.shareCents, -1...Int64(Int32.max))) }, uniquingKeysWith: { first, _ in first })
            }
            self = .propose(proposal, shares: shares)
        case .sendBack: self = .sendBack(comment: body.comment ?? "")
        case .accept: self = .accept
        case .report:
            guard let report = body.report else { throw missing("/report", "a report") }
            self = .report(
                MissionReport(
                    actions: report.actions, deliverables: report.deliverables, daysSpentHundredths: report.daysSpentHundredths,
                    results: report.results, recommendations: report.recommendations))
        case .review:
            guard let review = body.review else { throw missing("/review", "a review") }
            let ratings = review.ratings
            self = .review(
                SatisfactionReview(
                    ratings: [
                        .expertise: ratings.expertise, .listening: ratings.listening, .deliverables: ratings.deliverables,
                        .deadlines: ratings.deadlines, .usefulness: ratings.usefulness,
                    ], wouldRecommend: review.wouldRecommend, comments: review.comments))
        case .decline: self = .decline(reason: body.comment)
        case .cancel: self = .cancel(reason: body.comment)
        case .terminate: self = .terminate(reason: body.reason ?? "")
        case .leave: self = .leave
        case .join: self = .join
        }
    }
}

extension Components.Schemas.Mission {
    init(_ record: MissionRecord, for account: Account) {
        let mission = record.mission
        let proposal = mission.proposal
        self.init(
            id: mission.id, ref: mission.ref.description, title: mission.title, subthemes: mission.subthemeCodes,
            expertId: mission.expertID, expert: .init(record.expert),
            state: .init(rawValue: mission.state.rawValue)!,
            participants: mission.participants(visibleTo: Caller(account: account)).map {
                .init(
                    laureateId: $0.laureateID, laureate: .init(id: $0.laureateID, record.laureates[$0.laureateID]), joined: $0.joined,
                    shareCents: $0.shareCents.map(Int64.init), acceptedOn: $0.acceptedOn?.iso,
                    reviewedOn: $0.reviewedOn?.iso, review: $0.review.map(Components.Schemas.SatisfactionReviewBody.init))
            },
            pooled: mission.isPooled,
            diagnostic: proposal.map {
                let d = $0.diagnostic
                return .init(
                    context: d.context, needs: d.needs, objectives: d.objectives, method: d.method, deliverables: d.deliverables,
                    startOn: d.schedule.start.iso, endOn: d.schedule.end.iso, daysHundredths: d.daysHundredths)
            },
            quote: proposal.map {
                let q = $0.quote
                return .init(
                    lines: q.lines.map {
                        .init(
                            label: $0.label, quantityHundredths: Int64($0.quantityHundredths), unitPriceCents: Int64($0.unitPriceCents),
                            totalCents: Int64($0.totalCents))
                    }, vatRateBasisPoints: q.vatRateBasisPoints, validUntil: q.validUntil.iso, subtotalCents: Int64(q.subtotalCents),
                    vatCents: Int64(q.vatCents), totalCents: Int64(q.totalCents), currency: .eur)
            },
            report: mission.report.map {
                .init(
                    actions: $0.actions, deliverables: $0.deliverables, daysSpentHundredths: $0.daysSpentHundredths, results: $0.results,
                    recommendations: $0.recommendations)
            },
            lastComment: mission.lastComment, revision: record.revision, createdAt: record.createdAt, updatedAt: record.updatedAt,
            allowedActions: MissionWorkflow.allowedActions(on: mission, for: Caller(account: account)).map { .init(rawValue: $0.rawValue)! }
        )
    }
}

extension Components.Schemas.SatisfactionReviewBody {
    init(_ review: SatisfactionReview) {
        self.init(
            ratings: .init(
                expertise: review.ratings[.expertise] ?? 0, listening: review.ratings[.listening] ?? 0,
                deliverables: review.ratings[.deliverables] ?? 0, deadlines: review.ratings[.deadlines] ?? 0,
                usefulness: review.ratings[.usefulness] ?? 0), wouldRecommend: review.wouldRecommend, comments: review.comments)
    }
}

extension Components.Schemas.EventPage {
    /// A page of events; at its end the cursor stays where it was, so a client polling with it gets what comes next.
    init(_ page: (events: [AuditEvent], more: Bool), cursor: Int64?) {
        self.init(
            items: page.events.map(Components.Schemas.Event.init), nextCursor: (page.events.last?.seq ?? cursor).map(String.init),
            hasMore: page.more)
    }
}

extension Components.Schemas.Event {
    init(_ event: AuditEvent) {
        let actor: Components.Schemas.EventActor =
            if let id = event.actorID {
                .init(id: id, displayName: event.actorName ?? "", role: event.actorRole.flatMap { .init(rawValue: $0.rawValue) } ?? .system)
            } else {
                .init(displayName: "Système (ligne de commande, import)", role: .system)
            }
        self.init(
            seq: event.seq, at: event.at, actorId: event.actorID, actor: actor, action: event.action, subjectType: event.subjectType,
            subjectId: event.subjectID, beforeDigest: event.beforeDigest, afterDigest: event.afterDigest, prevHash: event.previousHash,
            hash: event.hash)
    }
}

extension APIHandler {
    func getProgrammeSummary(_ input: Operations.GetProgrammeSummary.Input) async throws -> Operations.GetProgrammeSummary.Output {
        _ = try RequestInfo.account(in: [.admin])
        let summary = try await storage { try database.programmeSummary() }
        return .ok(
            .init(
                body: .json(
                    .init(
                        laureates: summary.laureates, publishedExperts: summary.publishedExperts,
                        missionsByState: summary.missionsByState.map { .init(code: $0.state.rawValue, count: $0.count) },
                        missionsByTheme: summary.missionsByTheme.map { .init(code: $0.code, count: $0.count) },
                        missionsByRegion: summary.missionsByRegion.map { .init(code: $0.code, count: $0.count) },
                        budget: .init(
                            ceilingsCents: Int64(summary.ceilingsCents), committedCents: Int64(summary.committedCents),
                            spentCents: Int64(summary.spentCents), remainingCents: Int64(summary.ceilingsCents - summary.committedCents),
                            currency: .eur),
                        satisfactionByTheme: summary.satisfactionByTheme.map {
                            .init(theme: $0.themeCode, reviews: $0.reviews, averageHundredths: $0.averageHundredths)
                        }))))
    }
}

extension Components.Schemas.ExpertContact {
    init(_ contact: ExpertContact) {
        self.init(
            expertId: contact.expertID, firstName: contact.firstName, lastName: contact.lastName,
            organisationName: contact.organisationName,
            email: contact.email, phone: contact.phone, website: contact.website)
    }
}

extension Components.Schemas.LaureateProfile {
    /// A laureate's public profile (a participant's laureate always exists: the foreign key says so; an empty profile
    /// rather than a trap if it ever did not).
    init(id: String, _ laureate: Laureate?) {
        self.init(
            id: id, name: laureate?.name ?? "", communeName: laureate?.communeName ?? "", department: laureate?.departmentCode ?? "",
            territoryTypes: (laureate?.territoryTypes ?? []).map(\.rawValue).sorted().compactMap { .init(rawValue: $0) },
            sectors: laureate?.sectors ?? [], cohort: laureate?.cohort ?? 0)
    }
}

extension APIHandler {
    /// Where a delta feed resumes: `updated_after` as before, or `cursor` (the same revision, as every list takes it).
    func deltaPosition(updatedAfter: Int64?, cursor: String?) throws -> Int64 {
        if let updatedAfter {
            guard updatedAfter >= 0 else { throw APIProblem.badParameter("updated_after", "out_of_range", "A revision is zero or more.") }
            return updatedAfter
        }
        guard let cursor else { return 0 }
        guard let revision = Int64(cursor), revision >= 0 else {
            throw APIProblem.badParameter("cursor", "invalid_cursor", "Not a cursor of this list.")
        }
        return revision
    }
}
