import Domain
import Foundation
import Storage

extension APIHandler {
    static let directoryCacheControl = "public, max-age=60"

    func searchDirectory(_ input: Operations.SearchDirectory.Input) async throws -> Operations.SearchDirectory.Output {
        let params = input.query
        let limit = try pageLimit(params.limit)
        let query = DirectoryQuery(
            text: params.q, themeCode: params.theme, subthemeCodes: params.subtheme ?? [], regionCode: params.region,
            departmentCode: params.department, remote: params.remote, sector: params.sector)
        let errors = query.errors()
        guard errors.isEmpty else {
            throw APIProblem(.badRequest, code: "invalid_parameter", title: "Some parameters are invalid", errors: errors)
        }
        var position: DirectoryPosition?
        if let cursor = params.cursor {
            guard let decoded = DirectoryPosition(cursor: cursor) else {
                throw APIProblem.badParameter("cursor", "invalid_cursor", "Not a cursor of this directory.")
            }
            position = decoded
        }
        let index = try await storage { try database.directoryIndex() }
        let tag = EntityTag(
            of: Data(
                "\(index.revision)|\(query.canonical)|\(params.cursor ?? "")|\(limit)|\(params.facets ?? false)".utf8))
        let headers = (eTag: tag.description, cacheControl: Self.directoryCacheControl)
        if tag.matches(ifNoneMatch: input.headers.ifNoneMatch) {
            return .notModified(.init(headers: .init(eTag: headers.eTag, cacheControl: headers.cacheControl)))
        }
        let result = index.search(query, after: position, limit: limit, facets: params.facets ?? false)
        let page = Components.Schemas.DirectoryPage(
            items: result.items.map(Components.Schemas.DirectoryExpert.init), total: result.total, nextCursor: result.next?.cursor,
            facets: result.facets.map(Components.Schemas.Facets.init), hasMore: result.next != nil)
        return .ok(.init(headers: .init(eTag: headers.eTag, cacheControl: headers.cacheControl), body: .json(page)))
    }

    func getDirectoryExpert(_ input: Operations.GetDirectoryExpert.Input) async throws -> Operations.GetDirectoryExpert.Output {
        let index = try await storage { try database.directoryIndex() }
        guard let expert = index.expert(slug: input.path.slug) else { throw APIProblem.notFound("No published expert has this address.") }
        let body = Components.Schemas.DirectoryExpert(expert)
        let tag = EntityTag(ofJSON: body)
        if tag.matches(ifNoneMatch: input.headers.ifNoneMatch) {
            return .notModified(.init(headers: .init(eTag: tag.description, cacheControl: Self.directoryCacheControl)))
        }
        return .ok(.init(headers: .init(eTag: tag.description, cacheControl: Self.directoryCacheControl), body: .json(body)))
    }
}

extension Components.Schemas.DirectoryExpert {
    init(_ expert: PublicExpert) {
        self.init(
            expertId: expert.id, slug: expert.slug, firstName: expert.firstName, lastName: expert.lastName,
            organisationName: expert.organisationName,
            summary: expert.summary, subthemes: expert.subthemeCodes, themes: expert.themeCodes, coverage: .init(expert.coverage),
            sectors: expert.sectors, experiences: expert.experiences.map(Components.Schemas.Experience.init), email: expert.email,
            phone: expert.phone, website: expert.website, publishedAt: expert.publishedAt)
    }
}

extension Components.Schemas.Facets {
    init(_ facets: DirectoryFacets) {
        self.init(
            themes: facets.themes.map { .init(code: $0.code, count: $0.count) },
            subthemes: facets.subthemes.map { .init(code: $0.code, count: $0.count) },
            regions: facets.regions.map { .init(code: $0.code, count: $0.count) })
    }
}
