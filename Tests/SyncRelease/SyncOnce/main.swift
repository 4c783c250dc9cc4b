// `mdp sync once [--force]` for the crash test, built optimised: the engine as the real command runs it (settings from
// the same SYNC_* variables, exit code from the report), without the rest of the server, so that the kill -9 test
// exercises the engine's -O build. Not shipped.
import Foundation
import Sync

let environment = ProcessInfo.processInfo.environment
guard let api = environment["SYNC_API_URL"].flatMap(URL.init(string:)), let drive = environment["SYNC_WEBDAV_URL"].flatMap(URL.init(string:)),
    let tokenFile = environment["SYNC_API_TOKEN_FILE"], let journal = environment["SYNC_JOURNAL"],
    let token = try? String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
else {
    FileHandle.standardError.write(Data("sync-once: SYNC_API_URL, SYNC_API_TOKEN_FILE, SYNC_WEBDAV_URL and SYNC_JOURNAL are needed\n".utf8))
    exit(SyncExit.configurationError)
}
var options = SyncOptions()
options.force = CommandLine.arguments.contains("--force")
let engine = SyncEngine(
    api: APIClient(base: api, token: token, http: HTTPClient()), drive: WebDAVClient(base: drive, http: HTTPClient()),
    journal: try Journal(path: journal), options: options)
do {
    exit(try await engine.run().exitCode)
} catch SyncError.driveRoot(let reason) {
    FileHandle.standardError.write(Data("sync-once: \(reason)\n".utf8))
    exit(SyncExit.configurationError)
} catch {
    FileHandle.standardError.write(Data("sync-once: \(error)\n".utf8))
    exit(SyncExit.someFilesFailed)
}
