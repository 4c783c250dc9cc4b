import ArgumentParser
import Foundation
import Storage

/// `mdp audit …`: checks on the append-only audit log.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Checks on the audit log.", subcommands: [Verify.self])

    /// `mdp audit verify`: walks the hash chain; exits 0 when intact, 3 naming the first broken entry otherwise.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Verify the audit log's hash chain.")

        @OptionGroup var location: DatabaseOptions

        func run() async throws {
            let database = try await location.existingInstallation()
            defer { database.close() }
            switch try database.verifyAuditChain() {
            case .intact(let events):
                print("audit log intact: \(events) events")
            case .broken(let seq, let reason):
                FileHandle.standardError.write(Data("audit log broken at event \(seq): \(reason)\n".utf8))
                throw ExitCode(3)
            }
        }
    }
}
