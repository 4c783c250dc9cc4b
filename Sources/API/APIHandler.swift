import Domain
import Foundation
import OpenAPIRuntime
import Storage

/// The implementation of the generated `APIProtocol`: decode, call Domain or Storage, map. No rule lives here.
struct APIHandler: APIProtocol {
    let database: AppDatabase
    let settings: ProgrammeSettings
    let version: String
    let reference: ReferenceRepresentations
    /// The largest document accepted, in bytes.
    let maxDocumentBytes: Int

    init(database: AppDatabase, settings: ProgrammeSettings, version: String, maxDocumentBytes: Int = 50 << 20) {
        self.maxDocumentBytes = maxDocumentBytes
        self.database = database
        self.settings = settings
        self.version = version
        self.reference = ReferenceRepresentations(settings: settings)
    }

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: .ok, version: version))))
    }

    func getReady(_ input: Operations.GetReady.Input) async throws -> Operations.GetReady.Output {
        let state: (applied: Int, pending: [String])
        do {
            state = try await storage { [database] in
                try database.ping()
                return (try database.appliedMigrations().count, try database.pendingMigrations())
            }
        } catch let error as NotReady {
            let problem = APIProblem(
                .serviceUnavailable, code: "storage_unavailable", title: "Where this instance keeps its data is gone or read-only",
                detail: error.reason + ".")
            return .serviceUnavailable(.init(body: .applicationProblemJson(problem.schema)))
        } catch {
            let problem = APIProblem(.serviceUnavailable, code: "database_unavailable", title: "The database does not answer")
            return .serviceUnavailable(.init(body: .applicationProblemJson(problem.schema)))
        }
        guard state.pending.isEmpty else {
            let problem = APIProblem(
                .serviceUnavailable, code: "migrations_pending", title: "The database lacks migrations this version needs",
                detail: "Run `mdp admin migrate` (\(state.pending.count) pending).")
            return .serviceUnavailable(.init(body: .applicationProblemJson(problem.schema)))
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        status: .ready, version: version, database: database.dialect == .sqlite ? .sqlite : .postgresql,
                        migrations: Int64(state.applied)))))
    }

    func getTaxonomy(_ input: Operations.GetTaxonomy.Input) async throws -> Operations.GetTaxonomy.Output {
        let (body, tag) = reference.taxonomy
        if tag.matches(ifNoneMatch: input.headers.ifNoneMatch) {
            return .notModified(.init(headers: .init(eTag: tag.description, cacheControl: ReferenceRepresentations.cacheControl)))
        }
        return .ok(.init(headers: .init(eTag: tag.description, cacheControl: ReferenceRepresentations.cacheControl), body: .json(body)))
    }

    func getTerritories(_ input: Operations.GetTerritories.Input) async throws -> Operations.GetTerritories.Output {
        let (body, tag) = reference.territories
        if tag.matches(ifNoneMatch: input.headers.ifNoneMatch) {
            return .notModified(.init(headers: .init(eTag: tag.description, cacheControl: ReferenceRepresentations.cacheControl)))
        }
        return .ok(.init(headers: .init(eTag: tag.description, cacheControl: ReferenceRepresentations.cacheControl), body: .json(body)))
    }

    func getProgramme(_ input: Operations.GetProgramme.Input) async throws -> Operations.GetProgramme.Output {
        let (body, tag) = reference.programme
        if tag.matches(ifNoneMatch: input.headers.ifNoneMatch) {
            return .notModified(.init(headers: .init(eTag: tag.description, cacheControl: ReferenceRepresentations.cacheControl)))
        }
        return .ok(.init(headers: .init(eTag: tag.description, cacheControl: ReferenceRepresentations.cacheControl), body: .json(body)))
    }
}

/// Reference data changes only with the code or the settings: its representations and tags are built once.
struct ReferenceRepresentations: Sendable {
    static let cacheControl = "public, max-age=3600"

    let taxonomy: (Components.Schemas.Taxonomy, EntityTag)
    let territories: (Components.Schemas.Territories, EntityTag)
    let programme: (Components.Schemas.Programme, EntityTag)

    init(settings: ProgrammeSettings) {
        let taxonomy = Components.Schemas.Taxonomy(Taxonomy.themes)
        let territories = Components.Schemas.Territories(regions: Territories.regions, departments: Territories.departments)
        let programme = Components.Schemas.Programme(settings)
        self.taxonomy = (taxonomy, EntityTag(ofJSON: taxonomy))
        self.territories = (territories, EntityTag(ofJSON: territories))
        self.programme = (programme, EntityTag(ofJSON: programme))
    }
}
