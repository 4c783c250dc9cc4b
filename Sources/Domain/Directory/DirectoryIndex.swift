import Foundation

/// What the public directory shows of a published expert: only what they agreed to publish.
public struct PublicExpert: Sendable, Hashable {
    public let id: String
    public let slug: String
    public let firstName: String
    public let lastName: String
    public let organisationName: String
    public let summary: String
    public let subthemeCodes: [String]
    public let themeCodes: [String]
    public let coverage: Coverage
    public let sectors: [String]
    public let experiences: [PriorExperience]
    public let email: String?
    public let phone: String?
    public let website: String?
    public let publishedAt: Date

    /// The public projection of a card's content.
    public init(id: String, slug: String, content: ExpertCardContent, publishedAt: Date) {
        self.id = id
        self.slug = slug
        firstName = content.firstName
        lastName = content.lastName
        organisationName = content.organisation.name
        summary = content.summary
        subthemeCodes = content.subthemeCodes
        var themes: [String] = []
        for code in content.subthemeCodes {
            if let theme = Taxonomy.subtheme(code)?.themeCode, !themes.contains(theme) { themes.append(theme) }
        }
        themeCodes = themes
        coverage = content.coverage
        sectors = content.sectors
        experiences = content.experiences
        email = content.publication.email ? content.contact.email : nil
        phone = content.publication.phone ? content.contact.phone : nil
        website = content.publication.website ? content.contact.website : nil
        self.publishedAt = publishedAt
    }
}

/// Folding of French text for search: lowercase, accents and ligatures removed, split into words.
public enum TextFold {
    public static func words(_ text: String) -> [String] {
        let folded = text.replacingOccurrences(of: "œ", with: "oe").replacingOccurrences(of: "Œ", with: "oe")
            .replacingOccurrences(of: "æ", with: "ae").replacingOccurrences(of: "Æ", with: "ae")
            .folding(options: [.diacriticInsensitive, .caseInsensitive, .widthInsensitive], locale: nil)
            .lowercased()
        return folded.split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }
}

/// A query on the public directory. Every filter narrows; `subthemes` matches any of them.
public struct DirectoryQuery: Sendable, Hashable {
    public var text: String?
    public var themeCode: String?
    public var subthemeCodes: [String]
    public var regionCode: String?
    public var departmentCode: String?
    public var remote: Bool?
    public var sector: String?

    public init(
        text: String? = nil, themeCode: String? = nil, subthemeCodes: [String] = [], regionCode: String? = nil,
        departmentCode: String? = nil, remote: Bool? = nil, sector: String? = nil
    ) {
        self.text = text
        self.themeCode = themeCode
        self.subthemeCodes = subthemeCodes
        self.regionCode = regionCode
        self.departmentCode = departmentCode
        self.remote = remote
        self.sector = sector
    }

    /// One line naming the query exactly, for cache validators.
    public var canonical: String {
        [
            text ?? "", themeCode ?? "", subthemeCodes.joined(separator: ","), regionCode ?? "", departmentCode ?? "",
            remote.map { $0 ? "1" : "0" } ?? "", sector ?? "",
        ].joined(separator: "\u{1F}")
    }

    /// Every filter naming something that does not exist; such a query is refused rather than answered empty.
    public func errors() -> [FieldError] {
        var errors: [FieldError] = []
        if let themeCode, Taxonomy.theme(themeCode) == nil {
            errors.append(FieldError("/theme", "unknown_theme", "No theme has code \(themeCode)."))
        }
        for (index, code) in subthemeCodes.enumerated() where Taxonomy.subtheme(code) == nil {
            errors.append(FieldError("/subtheme/\(index)", "unknown_subtheme", "No subtheme has code \(code)."))
        }
        if let regionCode, Territories.region(regionCode) == nil {
            errors.append(FieldError("/region", "unknown_region", "No région has code \(regionCode)."))
        }
        if let departmentCode, Territories.department(departmentCode) == nil {
            errors.append(FieldError("/department", "unknown_department", "No département has code \(departmentCode)."))
        }
        if let text, text.count > 200 {
            errors.append(FieldError("/q", "too_long", "A search has at most 200 characters."))
        }
        return errors
    }
}

/// Where a result stands in the order of a query: relevance first (for a text search), then name, then id.
/// Pages are cut after a position, so a page never repeats or skips an expert even when others are published meanwhile.
public struct DirectoryPosition: Sendable, Hashable, Comparable {
    public let score: Int
    public let nameKey: String
    public let id: String

    public init(score: Int, nameKey: String, id: String) {
        self.score = score
        self.nameKey = nameKey
        self.id = id
    }

    public static func < (lhs: DirectoryPosition, rhs: DirectoryPosition) -> Bool {
        if lhs.score != rhs.score { return lhs.score > rhs.score }
        if lhs.nameKey != rhs.nameKey { return lhs.nameKey < rhs.nameKey }
        return lhs.id < rhs.id
    }

    /// An opaque, URL-safe cursor.
    public var cursor: String {
        let text = "\(score)\n\(nameKey)\n\(id)"
        return Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    public init?(cursor: String) {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard cursor.count <= 512, let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8)
        else { return nil }
        let parts = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard parts.count == 3, let score = Int(parts[0]) else { return nil }
        self.init(score: score, nameKey: String(parts[1]), id: String(parts[2]))
    }
}

/// One page of directory results.
public struct DirectoryResult: Sendable {
    public let items: [PublicExpert]
    public let total: Int
    public let next: DirectoryPosition?
    /// Counts over every match, by code; nil unless asked for.
    public let facets: DirectoryFacets?
}

public struct DirectoryFacets: Sendable, Hashable {
    public let themes: [(code: String, count: Int)]
    public let subthemes: [(code: String, count: Int)]
    public let regions: [(code: String, count: Int)]

    public static func == (lhs: DirectoryFacets, rhs: DirectoryFacets) -> Bool {
        lhs.themes.elementsEqual(rhs.themes, by: ==) && lhs.subthemes.elementsEqual(rhs.subthemes, by: ==)
            && lhs.regions.elementsEqual(rhs.regions, by: ==)
    }

    public func hash(into hasher: inout Hasher) {
        for (code, count) in themes + subthemes + regions {
            hasher.combine(code)
            hasher.combine(count)
        }
    }
}

/// The published experts held in memory, folded for search. The directory is small (hundreds of cards), so a
/// scan with precomputed words answers a query in microseconds; the index is rebuilt when a card changes.
public struct DirectoryIndex: Sendable {
    struct Entry: Sendable {
        let expert: PublicExpert
        let nameKey: String
        let nameWords: [String]
        let organisationWords: [String]
        let textWords: [String]
        let sectorKeys: Set<String>
        let subthemes: Set<String>
    }

    /// The database revision this index was built at: part of every ETag it serves.
    public let revision: Int64
    let entries: [Entry]

    public init(experts: [PublicExpert], revision: Int64) {
        self.revision = revision
        entries = experts.map { expert in
            Entry(
                expert: expert,
                nameKey: TextFold.words("\(expert.lastName) \(expert.firstName)").joined(separator: " "),
                nameWords: TextFold.words("\(expert.firstName) \(expert.lastName)"),
                organisationWords: TextFold.words(expert.organisationName),
                textWords: Array(
                    Set(
                        TextFold.words(
                            ([expert.summary] + expert.experiences.flatMap { [$0.tiersLieu, $0.description] }).joined(separator: " ")))),
                sectorKeys: Set(expert.sectors.map { TextFold.words($0).joined(separator: " ") }),
                subthemes: Set(expert.subthemeCodes))
        }
    }

    public var count: Int { entries.count }

    /// The expert published under `slug`.
    public func expert(slug: String) -> PublicExpert? { entries.first { $0.expert.slug == slug }?.expert }

    /// The page of `query` after `position`, `limit` long.
    public func search(_ query: DirectoryQuery, after position: DirectoryPosition? = nil, limit: Int, facets: Bool = false)
        -> DirectoryResult
    {
        let terms = TextFold.words(query.text ?? "")
        let sector = query.sector.map { TextFold.words($0).joined(separator: " ") }
        var matches: [(DirectoryPosition, Entry)] = []
        for entry in entries {
            if let theme = query.themeCode, !entry.expert.themeCodes.contains(theme) { continue }
            if !query.subthemeCodes.isEmpty, entry.subthemes.isDisjoint(with: query.subthemeCodes) { continue }
            if let department = query.departmentCode, !entry.expert.coverage.covers(departmentCode: department) { continue }
            if let region = query.regionCode, !entry.expert.coverage.covers(regionCode: region) { continue }
            if let remote = query.remote, entry.expert.coverage.remote != remote { continue }
            if let sector, !entry.sectorKeys.contains(sector) { continue }
            var score = 0
            if !terms.isEmpty {
                guard let relevance = Self.relevance(of: entry, terms: terms) else { continue }
                score = relevance
            }
            matches.append((DirectoryPosition(score: score, nameKey: entry.nameKey, id: entry.expert.id), entry))
        }
        matches.sort { $0.0 < $1.0 }
        let start = position.map { cursor in matches.firstIndex { cursor < $0.0 } ?? matches.count } ?? 0
        let page = matches[start...].prefix(limit)
        let next = start + page.count < matches.count ? page.last?.0 : nil
        return DirectoryResult(
            items: page.map(\.1.expert), total: matches.count, next: next,
            facets: facets ? Self.facets(of: matches.map(\.1.expert)) : nil)
    }

    /// The sum over the query's words of the best field each word prefixes (name 8, organisation 4, text 1; twice
    /// that for a whole word), or nil when a word matches nowhere: every word must match.
    static func relevance(of entry: Entry, terms: [String]) -> Int? {
        var total = 0
        for term in terms {
            var best = 0
            for (words, weight) in [(entry.nameWords, 8), (entry.organisationWords, 4), (entry.textWords, 1)] {
                for word in words where word.hasPrefix(term) {
                    best = max(best, word == term ? weight * 2 : weight)
                }
            }
            guard best > 0 else { return nil }
            total += best
        }
        return total
    }

    static func facets(of experts: [PublicExpert]) -> DirectoryFacets {
        var themes: [String: Int] = [:]
        var subthemes: [String: Int] = [:]
        var regions: [String: Int] = [:]
        for expert in experts {
            for code in expert.themeCodes { themes[code, default: 0] += 1 }
            for code in Set(expert.subthemeCodes) { subthemes[code, default: 0] += 1 }
            for region in Territories.regions where expert.coverage.covers(regionCode: region.code) {
                regions[region.code, default: 0] += 1
            }
        }
        func ordered(_ counts: [String: Int], by order: [String]) -> [(code: String, count: Int)] {
            order.compactMap { code in counts[code].map { (code, $0) } }
        }
        return DirectoryFacets(
            themes: ordered(themes, by: Taxonomy.themes.map(\.code)),
            subthemes: ordered(subthemes, by: Taxonomy.themes.flatMap(\.subthemes).map(\.code)),
            regions: ordered(regions, by: Territories.regions.map(\.code)))
    }
}
