import API
import ArgumentParser
import Domain
import Foundation
import Hummingbird
import Logging
import Storage

/// `mdp serve`: the REST API over an embedded SQLite database.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the REST API.")

    @Option(help: "Address to listen on (HTTP_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on, 0 for any free port (HTTP_PORT; default 8080).")
    var port: String?

    @Option(help: "Folder of the SQLite database and the blobs (DATA_DIR; default ./data).")
    var dataDir: String?

    func run() async throws {
        let source = try await SettingsSource.load(options: ["http.host": host, "http.port": port, "data.dir": dataDir])
        let settings = try ServeSettings(source)
        let app = try buildApplication(settings)
        try await app.runService()
    }
}

/// The composition root: settings in, a runnable application out. Tests build their own from the same parts.
func buildApplication(_ settings: ServeSettings) throws -> some ApplicationProtocol {
    var logger = Logger(label: "mdp")
    logger.logLevel = .info
    let database = try AppDatabase.file(inDirectory: settings.dataDirectory)
    let router = try buildRouter(APIDependencies(database: database, version: MDP.version))
    let dataDirectory = settings.dataDirectory
    return Application(
        router: router,
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "mdp/\(MDP.version)"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? settings.port
            let base = "http://\(settings.host):\(port)"
            let banner = """
                mdp \(MDP.version) serving on \(base) (data in \(dataDirectory))
                  health       \(base)/health
                  API docs     \(base)/docs   (contract: \(base)/openapi.yaml)
                  taxonomy     \(base)/v1/taxonomy
                  territories  \(base)/v1/territories
                  programme    \(base)/v1/programme

                """
            FileHandle.standardOutput.write(Data(banner.utf8))
        },
        logger: logger
    )
}
