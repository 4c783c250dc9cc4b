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
        themeCodes = Taxonomy.themeCodes(of: content.subthemeCodes)
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

/// The published experts held in memory, folded for search. Entries are kept in name order and every folded word
/// points to the entries using it (an inverted index over sorted byte strings), so a query costs a few binary searches
/// and integer comparisons, never a scan with string comparisons. The index is rebuilt when a card changes.
public struct DirectoryIndex: Sendable {
    struct Entry: Sendable {
        let expert: PublicExpert
        let nameKey: String
        let sectorKeys: Set<String>
        let subthemes: Set<String>
        let regions: Set<String>
    }

    /// A folded word and, for each entry using it, the weight of the best field it appears in.
    struct Posting: Sendable {
        let word: [UInt8]
        let entries: [(entry: Int, weight: Int)]
    }

    /// The database revision this index was built at: part of every ETag it serves.
    public let revision: Int64
    /// In name order (folded last name, first name, then id): a list without text needs no sort.
    let entries: [Entry]
    /// Sorted by word bytes.
    let vocabulary: [Posting]
    let bySlug: [String: Int]

    static let nameWeight = 8
    static let organisationWeight = 4
    static let textWeight = 1

    public init(experts: [PublicExpert], revision: Int64) {
        self.revision = revision
        let unsorted = experts.map { expert in
            Entry(
                expert: expert,
                nameKey: TextFold.words("\(expert.lastName) \(expert.firstName)").joined(separator: " "),
                sectorKeys: Set(expert.sectors.map { TextFold.words($0).joined(separator: " ") }),
                subthemes: Set(expert.subthemeCodes),
                regions: Set(Territories.regions.map(\.code).filter { expert.coverage.covers(regionCode: $0) }))
        }
        entries = unsorted.sorted { ($0.nameKey, $0.expert.id) < ($1.nameKey, $1.expert.id) }
        var weights: [String: [Int: Int]] = [:]
        for (position, entry) in entries.enumerated() {
            let expert = entry.expert
            let fields: [(String, Int)] = [
                ("\(expert.firstName) \(expert.lastName)", Self.nameWeight), (expert.organisationName, Self.organisationWeight),
                (
                    ([expert.summary] + expert.experiences.flatMap { [$0.tiersLieu, $0.description] }).joined(separator: " "),
                    Self.textWeight
                ),
            ]
            for (text, weight) in fields {
                for word in TextFold.words(text) { weights[word, default: [:]][position] = max(weights[word]?[position] ?? 0, weight) }
            }
        }
        vocabulary = weights.map { word, entries in
            Posting(word: Array(word.utf8), entries: entries.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }.sorted { $0.word.lexicographicallyPrecedes($1.word) }
        bySlug = Dictionary(entries.enumerated().map { ($1.expert.slug, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var count: Int { entries.count }

    /// The expert published under `slug`.
    public func expert(slug: String) -> PublicExpert? { bySlug[slug].map { entries[$0].expert } }

    /// Every published expert, in name order.
    public var experts: [PublicExpert] { entries.map(\.expert) }

    /// The page of `query` after `position`, `limit` long.
    public func search(_ query: DirectoryQuery, after position: DirectoryPosition? = nil, limit: Int, facets: Bool = false)
        -> DirectoryResult
    {
        let terms = TextFold.words(query.text ?? "")
        var scores: [Int]?
        if !terms.isEmpty {
            guard let relevance = relevance(terms) else {
                return DirectoryResult(items: [], total: 0, next: nil, facets: facets ? Self.facets(of: []) : nil)
            }
            scores = relevance
        }
        let sector = query.sector.map { TextFold.words($0).joined(separator: " ") }
        var matches: [(score: Int, rank: Int)] = []
        for (rank, entry) in entries.enumerated() {
            let score = scores?[rank] ?? 0
            if scores != nil && score == 0 { continue }
            if let theme = query.themeCode, !entry.expert.themeCodes.contains(theme) { continue }
            if !query.subthemeCodes.isEmpty, entry.subthemes.isDisjoint(with: query.subthemeCodes) { continue }
            if let department = query.departmentCode, !entry.expert.coverage.covers(departmentCode: department) { continue }
            if let region = query.regionCode, !entry.regions.contains(region) { continue }
            if let remote = query.remote, entry.expert.coverage.remote != remote { continue }
            if let sector, !entry.sectorKeys.contains(sector) { continue }
            matches.append((score, rank))
        }
        if scores != nil {
            matches.sort { $0.score != $1.score ? $0.score > $1.score : $0.rank < $1.rank }
        }
        var start = 0
        if let position {
            // Entries up to `boundary` sort at or before the cursor's name; the page starts after the cursor.
            let boundary = firstRank(after: position)
            start = matches.firstIndex { $0.score < position.score || ($0.score == position.score && $0.rank >= boundary) } ?? matches.count
        }
        let page = matches[start...].prefix(limit)
        let next = start + page.count < matches.count ? page.last.map { self.position(of: $0.rank, score: $0.score) } : nil
        return DirectoryResult(
            items: page.map { entries[$0.rank].expert }, total: matches.count, next: next,
            facets: facets ? Self.facets(of: matches.map { entries[$0.rank].expert }) : nil)
    }

    func position(of rank: Int, score: Int) -> DirectoryPosition {
        DirectoryPosition(score: score, nameKey: entries[rank].nameKey, id: entries[rank].expert.id)
    }

    /// The rank of the first entry whose (name, id) sorts after the cursor's, by binary search.
    func firstRank(after position: DirectoryPosition) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if (entries[middle].nameKey, entries[middle].expert.id) <= (position.nameKey, position.id) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }

    /// For each entry (by rank), the sum over the query's words of the best field each word prefixes (name 8,
    /// organisation 4, text 1; twice that for a whole word), 0 when a word matches nowhere in it: every word must
    /// match. Nil when some word matches no entry at all.
    func relevance(_ terms: [String]) -> [Int]? {
        var total = [Int](repeating: 0, count: entries.count)
        var matchedAll = [Bool](repeating: true, count: entries.count)
        for term in terms {
            let bytes = Array(term.utf8)
            var best = [Int](repeating: 0, count: entries.count)
            var index = lowerBound(bytes)
            var any = false
            while index < vocabulary.count, vocabulary[index].word.starts(with: bytes) {
                let exact = vocabulary[index].word.count == bytes.count
                for (entry, weight) in vocabulary[index].entries {
                    best[entry] = max(best[entry], exact ? weight * 2 : weight)
                    any = true
                }
                index += 1
            }
            guard any else { return nil }
            for entry in 0..<entries.count {
                if best[entry] == 0 { matchedAll[entry] = false } else { total[entry] += best[entry] }
            }
        }
        return zip(total, matchedAll).map { $1 ? $0 : 0 }
    }

    func lowerBound(_ bytes: [UInt8]) -> Int {
        var low = 0
        var high = vocabulary.count
        while low < high {
            let middle = (low + high) / 2
            if vocabulary[middle].word.lexicographicallyPrecedes(bytes) { low = middle + 1 } else { high = middle }
        }
        return low
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
