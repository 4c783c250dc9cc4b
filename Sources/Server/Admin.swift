import ArgumentParser
import Domain
import Foundation
import Storage

/// `mdp admin …`: operator commands on the same data folder as `serve`.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Operator commands.", subcommands: [CreateAdmin.self])
}

/// `mdp admin create --email …`: bootstraps a programme-team account. The password comes from MDP_ADMIN_PASSWORD
/// or the first line of standard input, never from an argument (arguments show in `ps` and shell history).
struct CreateAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an admin account (password on stdin).")

    @Option(help: "The admin's e-mail.")
    var email: String

    @Option(help: "The name shown for this account.")
    var name: String = "Équipe Manufactures de proximité"

    @Option(help: "Folder of the SQLite database (DATA_DIR; default ./data).")
    var dataDir: String?

    func run() async throws {
        let source = try await SettingsSource.load(options: ["data.dir": dataDir])
        let settings = try ServeSettings(source)
        let password: String
        if let fromEnvironment = ProcessInfo.processInfo.environment["MDP_ADMIN_PASSWORD"], !fromEnvironment.isEmpty {
            password = fromEnvironment
        } else if let line = readLine(strippingNewline: true) {
            password = line
        } else {
            throw ValidationError("give the password on standard input or in MDP_ADMIN_PASSWORD")
        }
        let database = try AppDatabase.file(inDirectory: settings.dataDirectory)
        do {
            let account = try database.createAccount(email: email, password: password, role: .admin, displayName: name)
            print("admin \(account.email) created")
        } catch StorageError.emailTaken {
            throw ValidationError("an account already uses \(Credentials.normalisedEmail(email))")
        } catch StorageError.invalid(let errors) {
            throw ValidationError(errors.map { "\($0.pointer.dropFirst()): \($0.detail)" }.joined(separator: "; "))
        }
    }
}
