import Domain
import Foundation
import GRDB

/// One page of a report: its rows, and where the next page starts (nil after the last).
public struct ReportPage: Sendable {
    public let rows: [[ReportCell]]
    public let next: String?
}

extension AppDatabase {
    /// A page of `dataset` for the programme team, `limit` items after `position` (nil: from the start), each page
    /// in its own read: a report of any size goes out page by page, never whole in memory. Missions and reviews are
    /// by reference, events by sequence, budgets by laureate name, the directory by expert id. The period narrows
    /// missions (requested), reviews (reviewed) and events.
    public func reportPage(
        _ dataset: ReportDataset, after position: String?, limit: Int, period: ReportPeriod, for account: Account
    ) throws -> ReportPage {
        guard account.role == .admin else { throw StorageError.forbidden }
        let limit = max(1, min(limit, 1000))
        switch dataset {
        case .missions, .reviews: return try missionReportPage(dataset, after: position, limit: limit, period: period)
        case .budgets: return try budgetReportPage(after: position, limit: limit, for: account)
        case .directory: return try directoryReportPage(after: position, limit: limit)
        case .events: return try eventReportPage(after: position, limit: limit, period: period)
        }
    }

    private func missionReportPage(_ dataset: ReportDataset, after position: String?, limit: Int, period: ReportPeriod) throws
        -> ReportPage
    {
        try engine.read { db in
            var conditions = ["ref > ?"]
            var arguments: [(any DatabaseValueConvertible)?] = [position ?? ""]
            if dataset == .missions {
                let (start, end) = period.moments
                if let start { (conditions, arguments) = (conditions + ["created_at >= ?"], arguments + [start]) }
                if let end { (conditions, arguments) = (conditions + ["created_at < ?"], arguments + [end]) }
            } else {
                var reviewed = ["p.mission_id = mission.id", "p.review IS NOT NULL", "p.joined = 1"]
                if let since = period.since { (reviewed, arguments) = (reviewed + ["p.reviewed_on >= ?"], arguments + [since.iso]) }
                if let until = period.until { (reviewed, arguments) = (reviewed + ["p.reviewed_on <= ?"], arguments + [until.iso]) }
                conditions.append("EXISTS (SELECT 1 FROM mission_participant p WHERE \(reviewed.joined(separator: " AND ")))")
            }
            let ids = try String.fetchAll(
                db, sql: "SELECT id FROM mission WHERE \(conditions.joined(separator: " AND ")) ORDER BY ref LIMIT \(limit)",
                arguments: SQLArguments(arguments))
            let records = try Self.missionRecords(db, ids: ids)
            var rows: [[ReportCell]] = []
            for record in records {
                rows += dataset == .missions ? Self.missionRows(record) : Self.reviewRows(record, period: period)
            }
            return ReportPage(rows: rows, next: ids.count == limit ? records.last?.mission.ref.description : nil)
        }
    }

    static func missionRows(_ record: MissionRecord) -> [[ReportCell]] {
        let mission = record.mission
        let themes = Taxonomy.themeCodes(of: mission.subthemeCodes).sorted {
            $0.localizedStandardCompare($1) == .orderedAscending
        }
        let quote = mission.proposal?.quote
        let money: (ReportCell, ReportCell, ReportCell) =
            quote.map { (.amount($0.subtotalCents), .amount($0.vatCents), .amount($0.totalCents)) } ?? (.empty, .empty, .empty)
        return mission.participants.enumerated().map { position, participant in
            let laureate = record.laureates[participant.laureateID]
            let region = laureate?.regionCode.flatMap { Territories.region($0)?.name }
            return [
                .text(mission.ref.description), .text(mission.title), .text(mission.state.labelFR),
                .date(Spreadsheet.parisDay(record.createdAt)), participant.acceptedOn.map(ReportCell.date) ?? .empty,
                participant.reviewedOn.map(ReportCell.date) ?? .empty,
                .text(themes.compactMap { Taxonomy.theme($0)?.labelFR }.joined(separator: ReportDataset.listSeparator)),
                .text(mission.subthemeCodes.joined(separator: ReportDataset.listSeparator)),
                .text("\(record.expert.firstName) \(record.expert.lastName)"), .text(record.expert.organisationName),
                .text(laureate?.name ?? participant.laureateID), .text(laureate?.siret ?? ""), .text(laureate?.departmentCode ?? ""),
                .text(region ?? ""), .flag(mission.isPooled),
                .text(ReportDataset.participationFR(position: position, joined: participant.joined)), money.0, money.1, money.2,
                participant.shareCents.map(ReportCell.amount) ?? .empty,
            ]
        }
    }

    static func reviewRows(_ record: MissionRecord, period: ReportPeriod) -> [[ReportCell]] {
        let mission = record.mission
        return mission.participants.filter { $0.joined && $0.review != nil && period.contains($0.reviewedOn) }.compactMap { participant in
            guard let review = participant.review else { return nil }
            let ratings = SatisfactionCriterion.allCases.map { criterion in review.ratings[criterion].map(ReportCell.integer) ?? .empty }
            return [
                .text(mission.ref.description), .text(mission.title),
                .text("\(record.expert.firstName) \(record.expert.lastName)"),
                .text(record.laureates[participant.laureateID]?.name ?? participant.laureateID),
                participant.reviewedOn.map(ReportCell.date) ?? .empty,
            ] + ratings + [.decimal(hundredths: review.averageHundredths), .flag(review.wouldRecommend), .text(review.comments)]
        }
    }

    private func budgetReportPage(after position: String?, limit: Int, for account: Account) throws -> ReportPage {
        let after = position.map { $0.split(separator: "\u{1F}", maxSplits: 1, omittingEmptySubsequences: false).map(String.init) }
        let laureates = try engine.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM laureate WHERE name > ? OR (name = ? AND id > ?) ORDER BY name, id LIMIT \(limit)",
                arguments: [after?.first ?? "", after?.first ?? "", after?.last ?? ""]
            ).map(Self.laureate)
        }
        let rows = try laureates.map { laureate -> [ReportCell] in
            let budget = try self.budget(laureateID: laureate.id, for: account)
            return [
                .text(laureate.name), .text(laureate.siret), .text(laureate.communeName), .text(laureate.departmentCode),
                .text(laureate.regionCode.flatMap { Territories.region($0)?.name } ?? ""), .integer(laureate.cohort),
                .amount(budget.ceilingCents), .amount(budget.committedCents), .amount(budget.heldCents), .amount(budget.spentCents),
                .amount(Money.saturatingDifference(budget.ceilingCents, budget.committedCents)), .integer(budget.lines.count),
            ]
        }
        let next = laureates.count == limit ? laureates.last.map { "\($0.name)\u{1F}\($0.id)" } : nil
        return ReportPage(rows: rows, next: next)
    }

    private func directoryReportPage(after position: String?, limit: Int) throws -> ReportPage {
        try engine.read { db in
            let experts = try Row.fetchAll(
                db, sql: "SELECT * FROM expert WHERE state = 'published' AND id > ? ORDER BY id LIMIT \(limit)", arguments: [position ?? ""]
            ).map { row in
                let card = try ExpertCardRecord(row: row)
                return PublicExpert(id: card.id, slug: card.slug, content: card.content, publishedAt: card.publishedAt ?? card.updatedAt)
            }
            let rows = experts.map { expert -> [ReportCell] in
                [
                    .text(expert.lastName), .text(expert.firstName), .text(expert.organisationName),
                    .text(expert.themeCodes.compactMap { Taxonomy.theme($0)?.labelFR }.joined(separator: ReportDataset.listSeparator)),
                    .text(expert.subthemeCodes.joined(separator: ReportDataset.listSeparator)),
                    .text(
                        expert.coverage.regionCodes.compactMap { Territories.region($0)?.name }.joined(
                            separator: ReportDataset.listSeparator)),
                    .text(expert.coverage.departmentCodes.joined(separator: ReportDataset.listSeparator)), .flag(expert.coverage.national),
                    .flag(expert.coverage.remote), .text(expert.sectors.joined(separator: ReportDataset.listSeparator)),
                    .text(expert.summary),
                    .text(expert.experiences.map { "\($0.tiersLieu) : \($0.description)" }.joined(separator: ReportDataset.listSeparator)),
                    .text(expert.email ?? ""),
                    .text(expert.phone ?? ""), .text(expert.website ?? ""), .date(Spreadsheet.parisDay(expert.publishedAt)),
                ]
            }
            return ReportPage(rows: rows, next: experts.count == limit ? experts.last?.id : nil)
        }
    }

    private func eventReportPage(after position: String?, limit: Int, period: ReportPeriod) throws -> ReportPage {
        let after = Int64(position ?? "0") ?? 0
        return try engine.read { db in
            var conditions = ["event.seq > ?"]
            var arguments: [(any DatabaseValueConvertible)?] = [after]
            let (start, end) = period.moments
            if let start { (conditions, arguments) = (conditions + ["event.at >= ?"], arguments + [Audit.timestamp.format(start)]) }
            if let end { (conditions, arguments) = (conditions + ["event.at < ?"], arguments + [Audit.timestamp.format(end)]) }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT event.seq, event.at, event.action, event.subject_type, event.subject_id,
                           account.display_name AS actor_name, account.role AS actor_role
                    FROM event LEFT JOIN account ON account.id = event.actor_id
                    WHERE \(conditions.joined(separator: " AND ")) ORDER BY event.seq LIMIT \(limit)
                    """, arguments: SQLArguments(arguments))
            let cells = rows.map { row -> [ReportCell] in
                let at: String = row["at"]
                return [
                    .integer(Int(clamping: row["seq"] as Int64)), (try? Audit.timestamp.parse(at)).map(ReportCell.moment) ?? .text(at),
                    .text(row["action"]), .text(row["actor_name"] ?? "Système (ligne de commande, import)"),
                    .text((row["actor_role"] as String?).flatMap(Role.init(rawValue:))?.labelFR ?? "système"), .text(row["subject_type"]),
                    .text(row["subject_id"]),
                ]
            }
            return ReportPage(rows: cells, next: rows.count == limit ? rows.last.map { String($0["seq"] as Int64) } : nil)
        }
    }
}
