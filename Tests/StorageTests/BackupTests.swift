import Domain
import Foundation
import Storage
import Testing

/// `mdp admin verify`, `backup` and `restore` below the command line.
@Suite("Backups and verification")
struct BackupTests {
    /// A laureate's dossier with two documents; returns their contents' digests.
    static func dossier(in database: AppDatabase) async throws -> [String] {
        let admin = try database.createAccount(email: "equipe@ftl.fr", password: nil, role: .admin, displayName: "Équipe")
        let laureate = try database.createLaureate(
            name: "Manufacture", legalEntity: "SCIC", siret: "44306184100047", communeINSEE: "42218", communeName: "Saint-Étienne",
            departmentCode: "42", territoryTypes: [.rural], cohort: 1, sectors: ["bois"], supportCeilingCents: 1_000_000,
            settings: .manufacturesDeProximite)
        var digests: [String] = []
        for (name, text) in [
            ("dossier.txt", "Dossier de candidature\n"), ("budget.txt", String(repeating: "Budget prévisionnel\n", count: 5000)),
        ] {
            let staged = try await database.blobs.stage(bytes: Array(text.utf8), fileName: name)
            _ = try database.addDocument(
                laureateID: laureate.id, missionID: nil, kind: .application, fileName: name, blob: staged, source: .api, by: admin)
            staged.discard()
            digests.append(staged.stored.sha256)
        }
        return digests
    }

    @Test func verifyingReadsEveryRecordedContentBackOnEitherStore() async throws {
        let database = try AppDatabase.throwaway()
        _ = try await Self.dossier(in: database)
        let check = try await database.verifyContents()
        #expect(check.checked == 2 && check.problems.isEmpty)
        #expect(check.bytes == "Dossier de candidature\n".utf8.count + 5000 * "Budget prévisionnel\n".utf8.count)
    }

    @Test func aBackupRestoresWholeAndADamagedOneIsRefusedWithoutTouchingTheTarget() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("backup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let live = try AppDatabase.file(inDirectory: root.appendingPathComponent("live").path, options: .init(bcryptCost: 4))
        let digests = try await Self.dossier(in: live)
        let manifest = try live.backup(to: root.appendingPathComponent("backup"))
        #expect(Set(manifest.blobs.map(\.sha256)) == Set(digests) && manifest.auditEvents > 0)
        #expect(throws: BackupError.backupTargetNotEmpty(root.appendingPathComponent("backup").path)) {
            try live.backup(to: root.appendingPathComponent("backup"))
        }

        let report = try await AppDatabase.restore(
            from: root.appendingPathComponent("backup"), into: root.appendingPathComponent("restored"), replacing: false)
        #expect(report.blobs == 2 && report.auditEvents == manifest.auditEvents && report.setAside == nil)

        // A folder another process holds (a server, or a restore under way) is refused; the restore holds it too.
        let held = try InstallationLock.acquire(dataDirectory: root.appendingPathComponent("restored").path)
        await #expect(throws: BackupError.inUse(root.appendingPathComponent("restored").path)) {
            _ = try await AppDatabase.restore(
                from: root.appendingPathComponent("backup"), into: root.appendingPathComponent("restored"), replacing: true)
        }
        withExtendedLifetime(held) {}

        // One byte of one content changed: refused, and the folder it would have replaced is as it was.
        let victim = root.appendingPathComponent("backup").appendingPathComponent(manifest.blobs[0].path)
        var bytes = try Data(contentsOf: victim)
        bytes[0] ^= 0x20
        try bytes.write(to: victim)
        await #expect(throws: BackupError.self) {
            _ = try await AppDatabase.restore(
                from: root.appendingPathComponent("backup"), into: root.appendingPathComponent("restored"), replacing: true)
        }
        let restored = try AppDatabase.file(inDirectory: root.appendingPathComponent("restored").path)
        #expect(try await restored.verifyContents().problems.isEmpty)
        restored.close()
        // No staging folder left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() == ["backup", "live", "restored"])

        // A path a manifest names outside the backup's shapes is refused before it is read.
        bytes[0] ^= 0x20
        try bytes.write(to: victim)
        let manifestFile = root.appendingPathComponent("backup/manifest.json")
        let text = try String(contentsOf: manifestFile, encoding: .utf8).replacingOccurrences(
            of: "\"path\" : \"\(manifest.blobs[1].path)\"", with: "\"path\" : \"../live/mdp.sqlite\"")
        try text.write(to: manifestFile, atomically: true, encoding: .utf8)
        await #expect(throws: BackupError.fileAltered("../live/mdp.sqlite")) {
            _ = try await AppDatabase.restore(
                from: root.appendingPathComponent("backup"), into: root.appendingPathComponent("other"), replacing: false)
        }
    }

    @Test func aMissingOrAlteredContentIsNamedByVerify() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("verify-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let database = try AppDatabase.file(inDirectory: root.path, options: .init(bcryptCost: 4))
        let digests = try await Self.dossier(in: database)
        let blobs = root.appendingPathComponent("blobs")
        try FileManager.default.removeItem(
            at: blobs.appendingPathComponent(String(digests[0].prefix(2))).appendingPathComponent(digests[0]))
        let second = blobs.appendingPathComponent(String(digests[1].prefix(2))).appendingPathComponent(digests[1])
        var bytes = try Data(contentsOf: second)
        bytes[10] ^= 0x01
        try bytes.write(to: second)
        let check = try await database.verifyContents()
        #expect(check.problems.sorted() == ["\(digests[0]): missing", "\(digests[1]): altered"].sorted())
    }
}
