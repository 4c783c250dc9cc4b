import ArgumentParser
import Configuration
import Foundation
import Sync
import Synchronization

/// `mdp sync once|watch`: the Drive sync engine, its own process. It talks to the API (a service token with the
/// `sync` role) and to the WebDAV Drive, and keeps its own journal.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Keep the Drive (WebDAV) and the document store in step.",
        discussion: """
            Exit codes: 0 ok, 1 some files failed (the others were synced), 2 configuration error (settings, bad
            credentials), 3 safety stop (the run would change more than the threshold; nothing was changed).
            """,
        subcommands: [Once.self, Watch.self])

    struct Options: ParsableArguments {
        @Option(help: "The API's base URL (SYNC_API_URL).")
        var apiURL: String?
        @Option(help: "A file holding the sync service token (SYNC_API_TOKEN_FILE); see `mdp admin token --role sync`.")
        var apiTokenFile: String?
        @Option(help: "The WebDAV URL of the Drive's root for the programme (SYNC_WEBDAV_URL).")
        var webdavURL: String?
        @Option(help: "WebDAV user (SYNC_WEBDAV_USER).")
        var webdavUser: String?
        @Option(help: "A file holding the WebDAV password (SYNC_WEBDAV_PASSWORD_FILE).")
        var webdavPasswordFile: String?
        @Option(help: "The journal's SQLite file (SYNC_JOURNAL; default ./data/sync-journal.sqlite).")
        var journal: String?
        @Option(help: "A PEM bundle of trusted certificate authorities (SYNC_CA_BUNDLE).")
        var caBundle: String?
        @Option(help: "push, pull or both (default both).")
        var direction: String = "both"
        @Flag(help: "Decide and report, change nothing.")
        var dryRun = false
        @Flag(help: "Run even past the safety threshold.")
        var force = false
        @Flag(help: "Print the summary as JSON.")
        var json = false
        @Option(help: "Parallel transfers and folder listings, 1 to 64 (default 4).")
        var parallel = 4
        @Option(help: "After each run, write its metrics here for Prometheus' textfile collector (SYNC_METRICS_FILE).")
        var metricsFile: String?

        func engine() async throws -> SyncEngine {
            let source = try await SettingsSource.load(options: [
                "sync.api.url": apiURL, "sync.api.token_file": apiTokenFile, "sync.webdav.url": webdavURL, "sync.webdav.user": webdavUser,
                "sync.webdav.password_file": webdavPasswordFile, "sync.journal": journal, "sync.ca_bundle": caBundle,
            ])
            let reader = source.reader
            func required(_ key: String) throws -> String {
                guard let value = reader.string(forKey: ConfigKey(key.split(separator: ".").map(String.init))), !value.isEmpty else {
                    throw SyncConfigurationError("\(key) is not set")
                }
                return value
            }
            func secret(fromFile key: String) throws -> String? {
                guard let path = reader.string(forKey: ConfigKey(key.split(separator: ".").map(String.init))) else { return nil }
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw SyncConfigurationError("cannot read \(key) (\(path))")
                }
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let apiURL = try Endpoint.parse(try required("sync.api.url"), setting: "--api-url (SYNC_API_URL)")
            let webdavURL = try Endpoint.parse(try required("sync.webdav.url"), setting: "--webdav-url (SYNC_WEBDAV_URL)")
            guard let token = try secret(fromFile: "sync.api.token_file") else {
                throw SyncConfigurationError("sync.api.token_file is not set")
            }
            guard let direction = SyncOptions.Direction(rawValue: direction) else {
                throw SyncConfigurationError("--direction is push, pull or both")
            }
            guard SyncOptions.parallelRange.contains(parallel) else {
                throw SyncConfigurationError(
                    "--parallel is between \(SyncOptions.parallelRange.lowerBound) and \(SyncOptions.parallelRange.upperBound)")
            }
            // Two values, built apart: the Drive's credentials can never travel to the API, whatever the order of lines.
            var apiHTTP = HTTPClientOptions()
            apiHTTP.maxParallel = parallel
            apiHTTP.caBundle = reader.string(forKey: "sync.ca_bundle")
            var driveHTTP = HTTPClientOptions()
            driveHTTP.maxParallel = parallel
            driveHTTP.caBundle = reader.string(forKey: "sync.ca_bundle")
            if let user = reader.string(forKey: "sync.webdav.user") {
                driveHTTP.basicAuth = (user, try secret(fromFile: "sync.webdav.password_file") ?? "")
            }
            var options = SyncOptions()
            options.direction = direction
            options.dryRun = dryRun
            options.force = force
            options.parallel = parallel
            let isTerminal = isatty(STDERR_FILENO) == 1
            options.progress = { line in
                FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[2K" + line : line + "\n").utf8))
            }
            let journalPath = reader.string(forKey: "sync.journal", default: "./data/sync-journal.sqlite")
            try FileManager.default.createDirectory(
                at: URL(fileURLWithPath: journalPath).deletingLastPathComponent(), withIntermediateDirectories: true)
            // One run at a time per journal, for the life of this process (a second `mdp sync` on it stops at once).
            guard JournalLock.acquire(journalPath + ".lock") else {
                throw SyncConfigurationError("another mdp sync is running with the journal \(journalPath): one run at a time per journal")
            }
            return SyncEngine(
                api: APIClient(base: apiURL, token: token, http: HTTPClient(options: apiHTTP)),
                drive: WebDAVClient(base: webdavURL, http: HTTPClient(options: driveHTTP)),
                journal: try Journal(path: journalPath), options: options)
        }

        /// Runs once, prints the summary and records the run in the metrics file when one is set; returns the exit code.
        func runOnce(_ engine: SyncEngine, metrics: SyncMetrics?) async -> Int32 {
            let start = ContinuousClock.now
            var report: SyncReport?
            let code = await runOnce(engine, report: &report)
            if let metrics {
                let elapsed = ContinuousClock.now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                do { try metrics.record(code: code, report: report, seconds: seconds) } catch {
                    FileHandle.standardError.write(Data("mdp sync: the metrics file \(metrics.file.path) could not be written\n".utf8))
                }
            }
            return code
        }

        /// The metrics file named by --metrics-file or SYNC_METRICS_FILE, if any.
        func metrics() async throws -> SyncMetrics? {
            let reader = try await SettingsSource.load(options: ["sync.metrics_file": metricsFile]).reader
            return reader.string(forKey: "sync.metrics_file").flatMap { $0.isEmpty ? nil : SyncMetrics(file: URL(fileURLWithPath: $0)) }
        }

        private func runOnce(_ engine: SyncEngine, report: inout SyncReport?) async -> Int32 {
            do {
                let done = try await engine.run()
                report = done
                print(json ? String(decoding: try JSONEncoder.sorted.encode(done), as: UTF8.self) : done.text)
                return done.exitCode
            } catch APIError.unauthorized {
                FileHandle.standardError.write(
                    Data("mdp sync: the API refused the token (401/403): issue one with `mdp admin token --role sync`\n".utf8))
                return SyncExit.configurationError
            } catch WebDAVError.unauthorized {
                FileHandle.standardError.write(Data("mdp sync: the Drive refused the credentials (401/403)\n".utf8))
                return SyncExit.configurationError
            } catch SyncError.driveRoot(let reason) {
                FileHandle.standardError.write(Data("mdp sync: \(reason)\n".utf8))
                return SyncExit.configurationError
            } catch {
                FileHandle.standardError.write(Data("mdp sync: \(error)\n".utf8))
                return SyncExit.someFilesFailed
            }
        }
    }

    struct Once: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One run, then exit with its code.")
        @OptionGroup var options: Options

        func run() async throws {
            let engine: SyncEngine
            do { engine = try await options.engine() } catch {
                FileHandle.standardError.write(Data("mdp sync: \(error)\n".utf8))
                throw ExitCode(SyncExit.configurationError)
            }
            let code = await options.runOnce(engine, metrics: try await options.metrics())
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A run every --interval seconds, until stopped.")
        @OptionGroup var options: Options
        @Option(help: "Seconds between runs (default 60).")
        var interval = 60

        func run() async throws {
            let engine: SyncEngine
            do { engine = try await options.engine() } catch {
                FileHandle.standardError.write(Data("mdp sync: \(error)\n".utf8))
                throw ExitCode(SyncExit.configurationError)
            }
            let metrics = try await options.metrics()
            while !Task.isCancelled {
                let code = await options.runOnce(engine, metrics: metrics)
                if code == SyncExit.configurationError { throw ExitCode(code) }
                try await Task.sleep(for: .seconds(max(1, interval)))
            }
        }
    }
}

struct SyncConfigurationError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return encoder
    }
}

extension SyncReport {
    /// The human summary.
    var text: String {
        var lines = [
            "\(dryRun ? "dry run: would have " : "")pushed \(pushed.count), pulled \(pulled.count), conflicts kept \(conflicts.count), archived \(archived.count), pushed again after a Drive deletion \(repushedAfterRemoteDeletion.count), found identical on both sides \(adopted.count)"
        ]
        lines.append("folders listed \(foldersListed), not listed again (tag unchanged since in step) \(foldersSkipped.count)")
        if !readAgain.isEmpty {
            lines.append(
                "read back to be sure (dated in the second they were last checked, on a Drive whose tags count whole seconds) \(readAgain.count)"
            )
        }
        if let drive {
            lines.append(drive.summary)
        } else if dryRun {
            lines.append("Drive not probed: a dry run writes nothing, and probing writes a few files under _archive")
        }
        if let safetyStop { lines.append("safety stop: \(safetyStop)") }
        for path in unknownRemotePaths { lines.append("unknown remote path (left alone): \(path.printable)") }
        for path in repushedAfterRemoteDeletion { lines.append("deleted on the Drive, pushed again: \(path.printable)") }
        for path in conflicts { lines.append("conflict, both versions kept: \(path.printable)") }
        for (path, place) in keptAside.sorted(by: { $0.key < $1.key }) {
            lines.append(
                "written on the Drive during the run, kept aside (the name was taken again): \(path.printable) → \(place.printable)")
        }
        for twin in nameTwins {
            lines.append(
                "conflict, a name that differs from a synced one only by its Unicode form, left untouched: \(twin.path.printable) (\(twin.path.unicodeForm)); synced: \(twin.synced.printable) (\(twin.synced.unicodeForm)); rename one of them"
            )
        }
        for (path, reason) in failed.sorted(by: { $0.key < $1.key }) { lines.append("failed: \(path.printable): \(reason.printable)") }
        return lines.joined(separator: "\n")
    }
}

/// An exclusive `flock` on a file next to the journal, held until the process ends (the kernel releases it then,
/// even after `kill -9`): two runs on one journal would each take the other's changes for someone else's.
enum JournalLock {
    private static let held = Mutex<[Int32]>([])

    static func acquire(_ path: String) -> Bool {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return false }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            return false
        }
        held.withLock { $0.append(descriptor) }
        return true
    }
}
