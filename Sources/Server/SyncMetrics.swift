import CoreMetrics
import Foundation
import Prometheus
import Sync

/// The sync's runs and their outcomes, for Prometheus: `mdp sync` has no port of its own, so after each run the
/// metrics are written to a file (`SYNC_METRICS_FILE`) that node_exporter's textfile collector reads.
struct SyncMetrics: Sendable {
    let file: URL
    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory

    init(file: URL) {
        self.file = file
        factory = PrometheusMetricsFactory(registry: registry)
    }

    /// The outcome of a run by its exit code.
    static func outcome(_ code: Int32) -> String {
        switch code {
        case SyncExit.ok: "ok"
        case SyncExit.someFilesFailed: "files_failed"
        case SyncExit.configurationError: "configuration_error"
        case SyncExit.safetyStop: "safety_stop"
        default: "error"
        }
    }

    /// Records one run, then rewrites the file (through a temporary name: the collector never reads half of it).
    func record(code: Int32, report: SyncReport?, seconds: Double, at moment: Date = Date()) throws {
        CoreMetrics.Counter(label: "mdp_sync_runs_total", dimensions: [("outcome", Self.outcome(code))], factory: factory).increment()
        CoreMetrics.Gauge(label: "mdp_sync_last_run_timestamp_seconds", dimensions: [], factory: factory)
            .record(moment.timeIntervalSince1970)
        CoreMetrics.Gauge(label: "mdp_sync_last_run_duration_seconds", dimensions: [], factory: factory).record(seconds)
        CoreMetrics.Gauge(label: "mdp_sync_last_run_exit_code", dimensions: [], factory: factory).record(Int(code))
        if let report {
            let files = [
                ("pushed", report.pushed.count), ("pulled", report.pulled.count), ("conflicts", report.conflicts.count),
                ("archived", report.archived.count), ("failed", report.failed.count),
            ]
            for (outcome, count) in files {
                CoreMetrics.Counter(label: "mdp_sync_files_total", dimensions: [("outcome", outcome)], factory: factory)
                    .increment(by: count)
            }
        }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).\(getpid()).tmp")
        try Data(registry.emitToBuffer()).write(to: temporary)
        // Readable by the collector, which runs as its own user (the service's umask is 077).
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: temporary.path)
        guard rename(temporary.path, file.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }
}
