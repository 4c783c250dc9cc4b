import API
import Foundation
import Logging
import Synchronization

/// How `mdp serve` writes its logs (`LOG_FORMAT`): lines for a person, or one JSON object per line for a collector.
enum LogFormat: String, CaseIterable, Sendable {
    case text, json

    /// Installs the format for the whole process, at `level` (once, before any logger is made).
    func bootstrap(level: Logger.Level) {
        switch self {
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, logLevel: level) }
        }
    }
}

/// One JSON object per line on standard error: `time`, `level`, `logger`, `message`, `request_id` when a request is
/// being served (Hummingbird's `hb.request.id` is ours, see `RequestID`), then the metadata.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, logLevel: Logger.Level) {
        self.label = label
        self.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Lines from several threads never interleave.
    private static let output = Mutex(())

    func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { $1 } }
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        guard let line = Self.line(level: event.level, message: event.message.description, metadata: fields, label: label) else { return }
        Self.output.withLock { _ in FileHandle.standardError.write(line) }
    }

    /// One log line: a JSON object (control characters escaped, so one line whatever the message) and a newline.
    static func line(level: Logger.Level, message: String, metadata: Logger.Metadata, label: String) -> Data? {
        var object: [String: Any] = [:]
        for (key, value) in metadata { object[key == "hb.request.id" ? "request_id" : key] = plain(value) }
        if object["request_id"] == nil, let id = RequestID.current { object["request_id"] = id }
        object["time"] = Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date())
        object["level"] = level.rawValue
        object["logger"] = label
        object["message"] = message
        guard var line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return nil
        }
        line.append(0x0A)
        return line
    }

    private static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let value as Int): value
        case .stringConvertible(let value as Double): value
        case .stringConvertible(let value): value.description
        case .array(let values): values.map(plain)
        case .dictionary(let values): values.mapValues(plain)
        }
    }
}
