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
        throws -> Logins
    {
        let admin = try database.createAccount(
            email: "equipe@demo.francetierslieux.fr", password: passwords.admin, role: .admin,
            displayName: "Équipe Manufactures de proximité")
        var expertLogin = ""
        for index in 0..<Self.expertCount {
            let content = expertContent(index)
            let state: CardState = index % 10 == 8 ? .submitted : (index % 25 == 9 ? .draft : .published)
            let password = index == 0 ? passwords.expert : nil
            try database.importExpert(content, state: index == 0 ? .published : state, password: password)
            if index == 0 { expertLogin = content.contact.email }
        }
        var laureateLogin = ""
        for (index, place) in Self.laureatePlaces().enumerated() {
            let laureate = try database.createLaureate(
                name: laureateName(index, commune: place.commune.name),
                legalEntity: pick(["Association", "SCIC", "SCOP", "SAS", "Association"]),
                siret: siret(), communeINSEE: place.commune.insee, communeName: place.commune.name,
                departmentCode: place.commune.department,
                territoryTypes: [place.type], cohort: index % settings.cohorts.count + 1, sectors: sample(Self.sectors, 1...3),
                supportCeilingCents: settings.supportCeilings[index % settings.supportCeilings.count], settings: settings)
            let email = "contact@\(laureate.slug).demo.fr"
            _ = try database.createAccount(
                email: email, password: index == 0 ? passwords.laureate : nil, role: .laureate, displayName: laureate.name,
                link: .laureate(id: laureate.id))
            if index == 0 { laureateLogin = email }
        }
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
