import Domain
import Foundation
import Storage
import Testing

@Suite("Blobs")
struct BlobStoreTests {
    @Test func aRefusedUploadLeavesNoFileAndStraysAreSweptAtStart() async throws {
        let database = try AppDatabase.throwaway()
        let blobs = database.blobs
        func stored(_ sha256: String) -> Bool { FileManager.default.fileExists(atPath: blobs.url(of: sha256).path) }
        func temporaryFiles() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: blobs.root.appendingPathComponent("tmp").path)
        }
        let admin = try database.createAccount(email: "equipe@ftl.fr", password: nil, role: .admin, displayName: "Équipe")
        let laureate = try database.createLaureate(
            name: "Manufacture", legalEntity: "SCIC", siret: "44306184100047", communeINSEE: "42218", communeName: "Saint-Étienne",
            departmentCode: "42", territoryTypes: [.rural], cohort: 1, sectors: ["bois"], supportCeilingCents: 1_000_000,
            settings: .manufacturesDeProximite)

        // Received and checked, a file waits outside the store until its document is recorded.
        let first = try await blobs.stage(bytes: Array("Dossier de candidature\n".utf8), fileName: "dossier.txt")
        #expect(try !stored(first.stored.sha256) && temporaryFiles().count == 1)
        let document = try database.addDocument(
            laureateID: laureate.id, missionID: nil, kind: .application, fileName: "dossier.txt", blob: first, source: .api, by: admin)
        first.discard()
        #expect(try stored(first.stored.sha256) && temporaryFiles().isEmpty)

        // A version based on a revision that has moved is refused after its bytes arrived: nothing of it stays.
        let late = try await blobs.stage(bytes: Array("Une version écrite sur une ancienne\n".utf8), fileName: "dossier.txt")
        #expect(throws: StorageError.self) {
            try database.addVersion(
                documentID: document.id, fileName: nil, blob: late, source: .api, by: admin, ifRevision: document.revision - 1)
        }
        late.discard()
        #expect(try !stored(late.stored.sha256) && temporaryFiles().isEmpty)

        // A file under its digest that no version names (a kill between the file and the commit) and a temporary
        // leftover are removed at start; recorded files stay.
        let stray = try await blobs.store(bytes: Array("Jamais enregistré\n".utf8), fileName: "perdu.txt")
        #expect(FileManager.default.createFile(atPath: blobs.root.appendingPathComponent("tmp/leftover").path, contents: Data("x".utf8)))
        #expect(try database.sweepUnreferencedBlobs() == 2)
        #expect(try !stored(stray.sha256) && stored(first.stored.sha256) && temporaryFiles().isEmpty)
        #expect(try database.sweepUnreferencedBlobs() == 0)
    }
}
