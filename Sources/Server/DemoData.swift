import Domain
import Foundation
import Storage

/// Realistic, fictional demo data for `mdp serve --demo`: about 300 experts over every theme and région (published,
/// submitted, draft) and 100 laureates (43 rural, 18 in a QPV, 39 in small or medium towns, as in the real programme).
/// Generated from a fixed seed, so every demo database is the same.
struct DemoData {
    /// The accounts a person can log in with.
    struct Logins {
        let admin: (email: String, password: String)
        let expert: (email: String, password: String)
        let laureate: (email: String, password: String)
    }

    static let expertCount = 300

    var random = SeededGenerator(seed: 2023_02_01)

    /// Loads everything into an empty database and returns the demo logins.
    mutating func load(
        into database: AppDatabase, settings: ProgrammeSettings, passwords: (admin: String, expert: String, laureate: String)
    )
        async throws -> Logins
    {
        let admin = try database.createAccount(
            email: "equipe@demo.francetierslieux.fr", password: passwords.admin, role: .admin,
            displayName: "Équipe Manufactures de proximité")
        var expertLogin = ""
        var published: [(id: String, account: Account)] = []
        for index in 0..<Self.expertCount {
            let content = expertContent(index)
            let state: CardState = index == 0 ? .published : (index % 10 == 8 ? .submitted : (index % 25 == 9 ? .draft : .published))
            let password = index == 0 ? passwords.expert : nil
            let imported = try database.importExpert(content, state: state, password: password)
            if state == .published { published.append((imported.expertID, imported.account)) }
            if index == 0 { expertLogin = content.contact.email }
        }
        var laureateLogin = ""
        var members: [(laureate: Laureate, account: Account)] = []
        for (index, place) in Self.laureatePlaces().enumerated() {
            let laureate = try database.createLaureate(
                name: laureateName(index, commune: place.commune.name),
                legalEntity: pick(["Association", "SCIC", "SCOP", "SAS", "Association"]),
                siret: siret(), communeINSEE: place.commune.insee, communeName: place.commune.name,
                departmentCode: place.commune.department,
                territoryTypes: [place.type], cohort: index % settings.cohorts.count + 1, sectors: sample(Self.sectors, 1...3),
                supportCeilingCents: settings.supportCeilings[index % settings.supportCeilings.count], settings: settings)
            let email = "contact@\(laureate.slug).demo.fr"
            let member = try database.createAccount(
                email: email, password: index == 0 ? passwords.laureate : nil, role: .laureate, displayName: laureate.name,
                link: .laureate(id: laureate.id))
            members.append((laureate, member))
            if index == 0 { laureateLogin = email }
        }
        try await loadWorkflow(into: database, admin: admin, experts: published, members: members)
        return Logins(
            admin: (admin.email, passwords.admin), expert: (expertLogin, passwords.expert), laureate: (laureateLogin, passwords.laureate))
    }

    // MARK: Experts

    mutating func expertContent(_ index: Int) -> ExpertCardContent {
        let first = pick(Self.firstNames)
        let last = pick(Self.lastNames)
        let theme = Taxonomy.themes[index % Taxonomy.themes.count]
        var subthemes = sample(theme.subthemes.map(\.code), 1...min(3, theme.subthemes.count))
        if random.next(upperBound: 3) == 0 {
            subthemes += sample(Taxonomy.themes.flatMap(\.subthemes).map(\.code).filter { !subthemes.contains($0) }, 1...2)
        }
        let region = Territories.regions[index % Territories.regions.count]
        let coverage: Coverage
        switch random.next(upperBound: 20) {
        case 0..<3: coverage = Coverage(national: true, remote: true)
        case 3..<8:
            coverage = Coverage(
                departmentCodes: sample(Territories.departments(inRegion: region.code).map(\.code), 1...3),
                remote: random.next(upperBound: 2) == 0)
        default:
            let neighbour = pick(Territories.regions).code
            coverage = Coverage(
                regionCodes: Array(Set([region.code, random.next(upperBound: 3) == 0 ? neighbour : region.code])).sorted(),
                remote: random.next(upperBound: 3) == 0)
        }
        let organisation = pick(Self.organisationPatterns).replacingOccurrences(of: "{nom}", with: last)
        let orgSlug = Slug.make(organisation)
        let sectors = sample(Self.sectors, 1...3)
        let tiersLieux = sample(Self.tiersLieux, 1...3)
        return ExpertCardContent(
            firstName: first, lastName: last, organisation: Organisation(name: organisation, siret: siret()),
            contact: ContactDetails(
                email: "\(Slug.make(first)).\(Slug.make(last)).\(index)@\(orgSlug).example.fr",
                phone: String(
                    format: "0%d %02d %02d %02d %02d", [6, 7, 1, 2, 3, 4, 5][random.next(upperBound: 7)], random.next(upperBound: 100),
                    random.next(upperBound: 100), random.next(upperBound: 100), random.next(upperBound: 100)),
                website: "https://\(orgSlug).example.fr"),
            summary: "\(pick(Self.openings)) \(Self.themePitch[theme.code] ?? theme.labelFR.lowercased()). \(pick(Self.closings))",
            subthemeCodes: subthemes, coverage: coverage, sectors: sectors,
            experiences: tiersLieux.map {
                PriorExperience(
                    tiersLieu: $0, description: pick(Self.experienceTemplates).replacingOccurrences(of: "{secteur}", with: pick(sectors)),
                    productive: random.next(upperBound: 4) != 0)
            },
            declaration: NoInterestDeclaration(
                signatory: "\(first) \(last)",
                signedOn: CalendarDate(2023, 2 + random.next(upperBound: 10), 1 + random.next(upperBound: 28))!),
            publication: PublicationConsent(email: random.next(upperBound: 2) == 0, phone: random.next(upperBound: 4) == 0, website: true))
    }

    /// A valid SIRET: 13 random digits and the Luhn check digit.
    mutating func siret() -> String {
        var digits = (0..<13).map { _ in random.next(upperBound: 10) }
        digits[0] = 1 + random.next(upperBound: 9)
        for check in 0...9 where Siret.luhn(digits + [check]) {
            return (digits + [check]).map(String.init).joined()
        }
        return ""
    }

    // MARK: Workflow

    /// Framing notes for most laureates, dossier files, and missions in every state (pooled ones, laureates close to
    /// their ceiling), each driven through the same rules as the API, so the audit chain tells the whole story.
    mutating func loadWorkflow(
        into database: AppDatabase, admin: Account, experts: [(id: String, account: Account)],
        members: [(laureate: Laureate, account: Account)]
    ) async throws {
        var noted: [(laureate: Laureate, account: Account, needs: [String])] = []
        for (index, member) in members.enumerated() {
            let laureate = member.laureate
            try await addDocument(
                database, member.account, laureate: laureate.id, mission: nil, kind: .application,
                title: "Candidature AMI - \(laureate.name)")
            try await addDocument(
                database, member.account, laureate: laureate.id, mission: nil, kind: .postIncubation,
                title: "Dossier post-incubation - \(laureate.name)")
            guard index % 7 != 3 else { continue }
            let needs = sample(Taxonomy.themes.flatMap(\.subthemes).map(\.code), 2...4)
            _ = try database.reviseFramingNote(
                laureateID: laureate.id,
                needs: needs.enumerated().map {
                    Need(subthemeCode: $1, priority: [.high, .medium, .low][$0 % 3], description: Taxonomy.subtheme($1)?.labelFR ?? "")
                }, by: member.account)
            try await addDocument(
                database, member.account, laureate: laureate.id, mission: nil, kind: .framingNote,
                title: "Note de cadrage - \(laureate.name)")
            noted.append((laureate, member.account, needs))
        }
        let targets: [MissionState] = [
            .closed, .accepted, .reported, .proposed, .scoping, .requested, .declined, .cancelled, .terminated, .closed, .accepted,
        ]
        var step = 0
        for (index, entry) in noted.enumerated() {
            for _ in 0..<(index % 3) {
                let expert = pick(experts)
                try await drive(
                    database, admin: admin, expert: expert, members: [(entry.laureate, entry.account)],
                    subthemes: Array(entry.needs.prefix(2)),
                    to: targets[step % targets.count])
                step += 1
            }
        }
        // Pooled missions over three laureates each.
        for (group, target) in zip(
            stride(from: 0, to: min(15, noted.count - 2), by: 3), [MissionState.closed, .accepted, .proposed, .scoping, .requested])
        {
            let pool = noted[group..<group + 3].map { ($0.laureate, $0.account) }
            try await drive(database, admin: admin, expert: pick(experts), members: pool, subthemes: ["3.1"], to: target, pooled: true)
        }
        // A few laureates close to their ceiling: one accepted mission leaving 250 €.
        for entry in noted.suffix(5) {
            let committed = try database.budget(laureateID: entry.laureate.id, for: admin)
            let amount = committed.remainingCents - 25_000
            guard amount > 0 else { continue }
            try await drive(
                database, admin: admin, expert: pick(experts), members: [(entry.laureate, entry.account)], subthemes: entry.needs,
                to: .accepted,
                exactTotal: amount)
        }
    }

    /// Requests a mission and drives it to `target`; a step the rules refuse (a budget, say) leaves it where it is.
    mutating func drive(
        _ database: AppDatabase, admin: Account, expert: (id: String, account: Account), members: [(Laureate, Account)],
        subthemes: [String],
        to target: MissionState, pooled: Bool = false, exactTotal: Int? = nil
    ) async throws {
        let requester = members[0].1
        let title = pick(Self.missionTitles) + (pooled ? " (mutualisée)" : "")
        let created = try database.requestMission(
            title: title, subthemeCodes: subthemes, expertID: expert.id, laureateIDs: members.map(\.0.id), by: requester)
        let id = created.mission.id
        // The invited laureates accept the invitation (a pooled request left `requested` keeps them pending).
        if target != .requested {
            for member in members.dropFirst() {
                _ = try database.transitionMission(id: id, command: .join, by: member.1, ifRevision: nil)
            }
        }
        let path: [MissionState: [MissionCommand]] = [
            .requested: [],
            .scoping: [.scope],
            .proposed: [.scope, .propose(proposal(exactTotal), shares: nil)],
            .accepted: [.scope, .propose(proposal(exactTotal), shares: nil), .accept],
            .reported: [.scope, .propose(proposal(exactTotal), shares: nil), .accept, .report(report())],
            .closed: [.scope, .propose(proposal(exactTotal), shares: nil), .accept, .report(report()), .review(review())],
            .declined: [.scope, .decline(reason: "Indisponible sur la période")],
            .cancelled: [.cancel(reason: "Besoin couvert autrement")],
            .terminated: [
                .scope, .propose(proposal(exactTotal), shares: nil), .accept, .terminate(reason: "Changement de gouvernance du lieu"),
            ],
        ]
        for command in path[target] ?? [] {
            let actors: [Account]
            switch command {
            case .scope, .propose, .report, .decline: actors = [expert.account]
            case .accept, .review: actors = members.map(\.1)
            case .cancel, .sendBack, .leave, .join: actors = [requester]
            case .terminate: actors = [admin]
            }
            do {
                for actor in actors { _ = try database.transitionMission(id: id, command: command, by: actor, ifRevision: nil) }
            } catch is StorageError {
                return
            }
            switch command {
            case .propose:
                try await addDocument(
                    database, expert.account, laureate: nil, mission: id, kind: .diagnostic, title: "Diagnostic - \(title)")
                try await addDocument(database, expert.account, laureate: nil, mission: id, kind: .quote, title: "Devis - \(title)")
            case .report:
                try await addDocument(
                    database, expert.account, laureate: nil, mission: id, kind: .missionReport, title: "Rapport de mission - \(title)")
                try await addDocument(
                    database, expert.account, laureate: nil, mission: id, kind: .deliverable, title: "Livrable - \(title)")
            case .review:
                try await addDocument(
                    database, requester, laureate: nil, mission: id, kind: .satisfactionReview, title: "Bilan de satisfaction - \(title)")
            default:
                break
            }
        }
    }

    mutating func proposal(_ exactTotal: Int?) -> Proposal {
        let lines: [QuoteLine]
        let vat: Int
        if let exactTotal {
            lines = [QuoteLine(label: "Accompagnement", quantityHundredths: 100, unitPriceCents: exactTotal)]
            vat = 0
        } else {
            let days = 2 + random.next(upperBound: 7)
            let rate = 60_000 + 5_000 * random.next(upperBound: 7)
            lines = [
                QuoteLine(label: "Diagnostic et ateliers", quantityHundredths: days * 100, unitPriceCents: rate),
                QuoteLine(label: "Restitution", quantityHundredths: 50, unitPriceCents: rate),
            ]
            vat = [0, 2000, 2000][random.next(upperBound: 3)]
        }
        return Proposal(
            diagnostic: Diagnostic(
                context: "Tiers-lieu productif en phase de consolidation", needs: "Structurer l'offre et le modèle économique",
                objectives: "Atteindre l'équilibre en 2025", method: "Entretiens, ateliers collectifs, restitution",
                deliverables: "Plan d'action et outils de pilotage",
                schedule: DateInterval(start: CalendarDate(2024, 4, 1)!, end: CalendarDate(2024, 9, 30)!)!, daysHundredths: 500),
            quote: Quote(lines: lines, vatRateBasisPoints: vat, validUntil: CalendarDate(2024, 6, 30)!))
    }

    func report() -> MissionReport {
        MissionReport(
            actions: "Quatre ateliers avec l'équipe et la communauté", deliverables: "Plan d'action, tableau de bord",
            daysSpentHundredths: 500, results: "Offre de services clarifiée, tarifs revus", recommendations: "Point d'étape à six mois")
    }

    mutating func review() -> SatisfactionReview {
        SatisfactionReview(
            ratings: Dictionary(uniqueKeysWithValues: SatisfactionCriterion.allCases.map { ($0, 3 + random.next(upperBound: 3)) }),
            wouldRecommend: random.next(upperBound: 5) != 0, comments: "Accompagnement utile et concret.")
    }

    func addDocument(_ database: AppDatabase, _ account: Account, laureate: String?, mission: String?, kind: DocumentKind, title: String)
        async throws
    {
        let fileName = Slug.make(title) + ".pdf"
        let bytes = DemoPDF.make(title: title, lines: ["Programme Manufactures de proximite", "Document de demonstration"])
        let blob = try await database.blobs.store(bytes: bytes, fileName: fileName)
        let place = try database.checkDocumentUpload(laureateID: laureate, missionID: mission, kind: kind, source: .api, by: account)
        _ = try database.addDocument(
            laureateID: place.laureateID, missionID: place.missionID, kind: kind, fileName: fileName, blob: StagedBlob(committed: blob),
            source: .api, by: account)
    }

    // MARK: Laureates

    struct Commune {
        let insee: String
        let name: String
        var department: String { insee.hasPrefix("97") ? String(insee.prefix(3)) : String(insee.prefix(2)) }
    }

    /// 43 rural, 18 QPV and 39 small or medium towns, over the country.
    static func laureatePlaces() -> [(commune: Commune, type: TerritoryType)] {
        func cycle(_ communes: [Commune], _ count: Int, _ type: TerritoryType) -> [(Commune, TerritoryType)] {
            (0..<count).map { (communes[$0 % communes.count], type) }
        }
        return cycle(ruralCommunes, 43, .rural) + cycle(qpvCommunes, 18, .qpv) + cycle(townCommunes, 39, .smallOrMediumTown)
    }

    mutating func laureateName(_ index: Int, commune: String) -> String {
        pick(Self.laureatePatterns).replacingOccurrences(of: "{commune}", with: commune)
    }

    // MARK: Randomness

    mutating func pick<T>(_ items: [T]) -> T { items[random.next(upperBound: items.count)] }

    mutating func sample<T>(_ items: [T], _ count: ClosedRange<Int>) -> [T] {
        var pool = items
        var result: [T] = []
        let wanted = min(items.count, count.lowerBound + random.next(upperBound: count.count))
        while result.count < wanted { result.append(pool.remove(at: random.next(upperBound: pool.count))) }
        return result
    }
}

/// SplitMix64: a small, seeded generator, so the demo is the same on every machine.
struct SeededGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(upperBound: Int) -> Int { Int(next() % UInt64(upperBound)) }
}
