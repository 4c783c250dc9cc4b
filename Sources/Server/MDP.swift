import ArgumentParser

/// `mdp`: the Manufactures de proximité back end. One binary, several roles.
@main
struct MDP: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "mdp",
        abstract: "Back end of the Manufactures de proximité programme (France Tiers-Lieux).",
        version: version,
        subcommands: [Serve.self, SyncCommand.self, Admin.self, AuditCommand.self, NotifyCommand.self, BenchCommand.self]
    )
}
