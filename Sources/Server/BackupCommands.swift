import ArgumentParser
import Foundation
import Storage

/// `mdp admin backup --to DIR`: a consistent copy of a running SQLite installation (database and contents, with a
/// manifest of digests); writes go on meanwhile.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Back up a running SQLite installation into an empty folder (PostgreSQL: pg_dump).")

    @Option(help: "The folder to create (missing or empty); a dated name under it with --dated.")
    var to: String

    @Flag(help: "Make a folder named after the moment under --to (for the backup timer), keeping the last --keep.")
    var dated = false

    @Option(help: "With --dated, how many backups to keep (the oldest go).")
    var keep = 14

    @OptionGroup var location: DatabaseOptions

    func run() async throws {
        let settings = try await location.settings()
        guard settings.databaseURL == nil else { throw ValidationError(BackupError.notSQLite.description) }
        guard (1...10_000).contains(keep) else { throw ValidationError("--keep must be 1 to 10000") }
        let database = try await location.existingInstallation()
        defer { database.close() }
        let now = Date()
        var folder = URL(fileURLWithPath: to)
        if dated {
            folder = folder.appendingPathComponent("mdp-" + Date.ISO8601FormatStyle().format(now).replacingOccurrences(of: ":", with: ""))
        }
        do {
            let manifest = try database.backup(to: folder, now: now)
            let bytes = manifest.blobs.reduce(manifest.database.bytes) { $0 + $1.bytes }
            print(
                "backup in \(folder.path): database taken at \(manifest.takenAt), \(manifest.auditEvents) audit events, "
                    + "\(manifest.blobs.count) contents, \(bytes) bytes")
        } catch let error as BackupError {
            throw ValidationError(error.description)
        }
        if dated {
            // Only this command's own dated backups are rotated: finished ones (with their manifest), oldest first, never
            // the one just made; any other folder is left alone.
            let parent = URL(fileURLWithPath: to)
            let ours = try FileManager.default.contentsOfDirectory(atPath: parent.path).filter { name in
                Self.isDatedName(name)
                    && FileManager.default.fileExists(
                        atPath: parent.appendingPathComponent(name).appendingPathComponent(BackupManifest.fileName).path)
            }.sorted()
            for old in ours.dropLast(keep) where old != folder.lastPathComponent {
                try FileManager.default.removeItem(at: parent.appendingPathComponent(old))
                print("removed the old backup \(old)")
            }
        }
    }

    /// `mdp-YYYY-MM-DDTHHMMSSZ`, as `--dated` names a backup (these sort in time order).
    static func isDatedName(_ name: String) -> Bool {
        let pattern = Array("mdp-####-##-##T######Z")
        let characters = Array(name)
        guard characters.count == pattern.count else { return false }
        return zip(characters, pattern).allSatisfy { character, expected in
            expected == "#" ? character.isASCII && character.isNumber : character == expected
        }
    }
}

/// `mdp admin restore --from DIR`: the backup checked and restored as the data folder (refused when it holds anything,
/// unless `--replace`: then what was there is set aside, not deleted).
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Restore a backup into the data folder, then verify the audit chain and every content.")

    @Option(help: "The backup folder (made by `mdp admin backup`).")
    var from: String

    @Flag(help: "Restore over a data folder that holds data; the old data is set aside inside it (.before-restore-…).")
    var replace = false

    @Option(help: "Folder of the SQLite database to restore into (DATA_DIR; default ./data).")
    var dataDir: String?

    func run() async throws {
        let settings = try ServeSettings(try await SettingsSource.load(options: ["data.dir": dataDir]))
        guard settings.databaseURL == nil else {
            throw ValidationError("DATABASE_URL is set: restore a PostgreSQL dump with pg_restore, then run `mdp admin verify`")
        }
        do {
            let report = try await AppDatabase.restore(
                from: URL(fileURLWithPath: from), into: URL(fileURLWithPath: settings.dataDirectory), replacing: replace)
            print(
                "restored into \(settings.dataDirectory): audit log intact (\(report.auditEvents) events), \(report.blobs) contents "
                    + "verified (\(report.bytes) bytes)" + (report.setAside.map { "; the previous data is in \($0)" } ?? ""))
        } catch let error as BackupError {
            FileHandle.standardError.write(Data("restore refused: \(error)\n".utf8))
            throw ExitCode(3)
        }
    }
}

/// `mdp admin verify`: the audit chain and every content's digest, on either database (after a restore, a pg_restore,
/// or at any time).
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Verify the audit chain and every document content's digest; exit 3 on damage.")

    @OptionGroup var location: DatabaseOptions

    func run() async throws {
        let database = try await location.existingInstallation()
        defer { database.close() }
        var damaged = false
        switch try database.verifyAuditChain() {
        case .intact(let events): print("audit log intact: \(events) events")
        case .broken(let seq, let reason):
            FileHandle.standardError.write(Data("audit log broken at event \(seq): \(reason)\n".utf8))
            damaged = true
        }
        let contents = try await database.verifyContents()
        print("contents: \(contents.checked) checked, \(contents.bytes) bytes, \(contents.problems.count) damaged")
        for problem in contents.problems.prefix(20) { FileHandle.standardError.write(Data("  \(problem)\n".utf8)) }
        if damaged || !contents.problems.isEmpty { throw ExitCode(3) }
    }
}
