import Domain
import Foundation
import Synchronization
import Testing

@testable import Storage

/// A clock the blob tests move past the age at which unfinished uploads count as abandoned.
private final class Hours: Sendable {
    private let offset = Mutex<TimeInterval>(0)
    var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }
    func pass(_ hours: Double) { offset.withLock { $0 += hours * 3600 } }
}

@Suite("Blobs")
struct BlobStoreTests {
    @Test func aRefusedUploadLeavesNothingAndStraysAreSwept() async throws {
        let hours = Hours()
        let database = try AppDatabase.throwaway(options: .init(clock: { hours.now }, bcryptCost: 4))
        let blobs = database.blobs
        let admin = try database.createAccount(email: "equipe@ftl.fr", password: nil, role: .admin, displayName: "Équipe")
        let laureate = try database.createLaureate(
            name: "Manufacture", legalEntity: "SCIC", siret: "44306184100047", communeINSEE: "42218", communeName: "Saint-Étienne",
            departmentCode: "42", territoryTypes: [.rural], cohort: 1, sectors: ["bois"], supportCeilingCents: 1_000_000,
            settings: .manufacturesDeProximite)

        // Received and checked, a file waits outside the store until its document is recorded.
        let first = try await blobs.stage(bytes: Array("Dossier de candidature\n".utf8), fileName: "dossier.txt")
        #expect(try !blobs.isStored(first.stored.sha256) && blobs.waitingUploads() == 1)
        let document = try database.addDocument(
            laureateID: laureate.id, missionID: nil, kind: .application, fileName: "dossier.txt", blob: first, source: .api, by: admin)
        first.discard()
        #expect(try blobs.isStored(first.stored.sha256) && blobs.waitingUploads() == 0)

        // A version based on a revision that has moved is refused after its bytes arrived: nothing of it stays.
        let late = try await blobs.stage(bytes: Array("Une version écrite sur une ancienne\n".utf8), fileName: "dossier.txt")
        #expect(throws: StorageError.self) {
            try database.addVersion(
                documentID: document.id, fileName: nil, blob: late, source: .api, by: admin, ifRevision: document.revision - 1)
        }
        late.discard()
        #expect(try !blobs.isStored(late.stored.sha256) && blobs.waitingUploads() == 0)

        // Refused while it arrives (not the declared file, too large, of no accepted type): dropped at once, not left
        // for the sweep (on PostgreSQL, up to the size limit in chunks per refusal).
        let text = Array("Un fichier annoncé sous une autre empreinte\n".utf8)
        await #expect(throws: BlobError.digestMismatch) {
            try await blobs.stage(bytes: text, fileName: "x.txt", expectedSHA256: String(repeating: "0", count: 64))
        }
        await #expect(throws: BlobError.tooLarge(limit: 10)) { try await blobs.stage(bytes: text, limit: 10, fileName: "x.txt") }
        await #expect(throws: BlobError.unsupportedType) { try await blobs.stage(bytes: [0, 1, 2, 0xff], fileName: "x.bin") }
        #expect(try blobs.waitingUploads() == 0)

        // A blob no version names (a kill between the bytes and the commit) and an upload never finished are swept once
        // old enough (the database store is shared by instances: a young upload may be another's in flight); recorded
        // blobs stay.
        let stray = try await blobs.store(bytes: Array("Jamais enregistré\n".utf8), fileName: "perdu.txt")
        let unfinished = try await blobs.stage(bytes: Array("Coupé en route\n".utf8), fileName: "coupe.txt")
        _ = unfinished
        hours.pass(7)
        #expect(try database.sweepUnreferencedBlobs() == 2)
        #expect(try !blobs.isStored(stray.sha256) && blobs.isStored(first.stored.sha256) && blobs.waitingUploads() == 0)
        #expect(try database.sweepUnreferencedBlobs() == 0)
    }

    @Test func contentsAreReadInPiecesWhateverTheRange() async throws {
        let database = try AppDatabase.throwaway()
        // Several database chunks (256 KiB) and a tail, with bytes that tell positions apart.
        let bytes = Array("%PDF-1.7\n".utf8) + (0..<(700 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let stored = try await database.blobs.store(bytes: bytes, fileName: "rapport.pdf")
        #expect(stored.size == bytes.count)
        for range in [0..<bytes.count, 0..<1, 262_143..<262_145, 300_000..<600_001, bytes.count - 5..<bytes.count] {
            var read: [UInt8] = []
            var pieces = 0
            for try await piece in try await database.blobs.contents(of: stored.sha256, range: range) {
                read += piece
                pieces += 1
                #expect(piece.count <= 256 << 10)
            }
            #expect(read == Array(bytes[range]), "range \(range)")
            #expect(pieces >= 1)
        }
        await #expect(throws: BlobError.missing) {
            _ = try await database.blobs.contents(of: String(repeating: "0", count: 64), range: 0..<1)
        }
    }
}

/// A PostgreSQL connection that stops answering (a server restarted, a backend terminated, a network cut) must not
/// hold a thread for good: each statement has a deadline, after which the connection is given up and the next caller
/// gets a fresh one.
@Suite("PostgreSQL connections", .enabled(if: ProcessInfo.processInfo.environment["MDP_TEST_DATABASE_URL"]?.isEmpty == false))
struct PostgresConnectionTests {
    @Test func aStatementLeftUnansweredFailsAtItsDeadlineAndItsConnectionIsNotReused() throws {
        let pool = PostgresPool(try PostgresLocation(url: ProcessInfo.processInfo.environment["MDP_TEST_DATABASE_URL"] ?? ""), size: 1)
        defer { pool.close() }
        pool.deadline = .milliseconds(500)
        let start = Date()
        #expect(throws: StorageError.unavailable) { try pool.withConnection { session in _ = try session.rows("SELECT pg_sleep(5)", []) } }
        #expect(Date().timeIntervalSince(start) < 3)
        let one: Int? = try pool.withConnection { session in try session.rows("SELECT 1 AS one", []).first?["one"] }
        #expect(one == 1)
    }
}
