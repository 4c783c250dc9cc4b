import Domain
import Foundation
import Logging
import Storage
import Synchronization

/// The outbox's worker: takes the notices that are due, sends each to its recipients' addresses, and records how it
/// went. A notice is marked delivered only after every address took it, so a crash or a failure sends it again (at
/// least once; its Message-ID stays the same). Failures are tried again with backoff for three days, then marked failed.
public struct NoticeDelivery: Sendable {
    public let database: AppDatabase
    /// Nil when e-mail is off (no `SMTP_URL`): notices are settled as skipped, nothing piles up.
    public let mail: (any MailTransport)?
    public let sender: MailAddress
    /// The front end's base URL, for the links in messages.
    public let appURL: String
    public let reminders: ReminderSettings
    public let logger: Logger
    /// Where webhook requests go; nil: subscriptions' deliveries wait.
    public let webhooks: (any WebhookTransport)?
    /// The `data` of an event's body: the resource (a mission, an expert card) as the API returns it to the programme
    /// team, as it stood right after the change (its snapshot), as JSON; nil when it is gone.
    public let render: WebhookRenderer?

    public typealias WebhookRenderer = @Sendable (_ delivery: WebhookDeliveryRecord) async throws -> String?

    public init(
        database: AppDatabase, mail: (any MailTransport)?, sender: MailAddress, appURL: String, reminders: ReminderSettings = .init(),
        webhooks: (any WebhookTransport)? = nil, render: WebhookRenderer? = nil, logger: Logger = Logger(label: "mdp.notify")
    ) {
        self.database = database
        self.mail = mail
        self.sender = sender
        self.appURL = appURL
        self.reminders = reminders
        self.webhooks = webhooks
        self.render = render
        self.logger = logger
    }

    /// What one pass did.
    public struct Report: Sendable, Hashable, CustomStringConvertible {
        public var delivered = 0
        public var postponed = 0
        public var failed = 0
        public var skipped = 0
        public var webhooksDelivered = 0
        public var webhooksPostponed = 0
        public var webhooksFailed = 0

        public init() {}

        func adding(_ other: Report) -> Report {
            var sum = self
            sum.delivered += other.delivered
            sum.postponed += other.postponed
            sum.failed += other.failed
            sum.skipped += other.skipped
            sum.webhooksDelivered += other.webhooksDelivered
            sum.webhooksPostponed += other.webhooksPostponed
            sum.webhooksFailed += other.webhooksFailed
            return sum
        }

        public var description: String {
            "e-mail: \(delivered) delivered, \(postponed) to try again, \(failed) failed, \(skipped) skipped; webhooks: "
                + "\(webhooksDelivered) delivered, \(webhooksPostponed) to try again, \(webhooksFailed) failed"
        }
    }

    /// When reminders were last looked for (at most once an hour: they count in days).
    private let remindersLookedFor = LastTime()

    /// Queues the reminders that came due (at most once an hour), then sends what is due now, in batches, until
    /// nothing is due (or `maxBatches` were taken).
    public func runOnce(maxBatches: Int = 20) async throws -> Report {
        let mail = try await mailPass(maxBatches: maxBatches)
        let webhooks = try await webhookPass(maxBatches: maxBatches)
        return mail.adding(webhooks)
    }

    /// Queues the reminders that came due (at most once an hour), then e-mails what is due. What ended long ago is
    /// forgotten by the retention purge (`mdp serve` every hour, `mdp admin purge`).
    func mailPass(maxBatches: Int) async throws -> Report {
        if remindersLookedFor.isOlder(than: 3_600) {
            let queued = try await blocking { try database.scheduleReminders() }
            if queued > 0 { logger.info("notifications: \(queued) reminders queued") }
        }
        var report = Report()
        for _ in 0..<maxBatches {
            let due = try await blocking { try database.claimDueNotices(limit: 50, lease: 300) }
            if due.isEmpty { break }
            for entry in due { try await deliver(entry, into: &report) }
        }
        return report
    }

    /// Posts the webhook deliveries that are due, eight at a time: a receiver that hangs holds one slot for its
    /// timeout, not the whole queue.
    func webhookPass(maxBatches: Int) async throws -> Report {
        guard let webhooks, let render else { return Report() }
        var report = Report()
        // One request at a time per subscription (its receiver gets events in order), eight in all; a subscription
        // whose receiver failed in this pass waits for the next: one receiver that hangs costs one slot for one
        // timeout per pass, never the others' deliveries.
        let subscriptions = PassState()
        // Left for the next pass: let go of once the pass ends (not before, or a later batch would take them again).
        var deferred: [String] = []
        for _ in 0..<maxBatches {
            let due = try await blocking { try database.claimDueWebhooks(limit: 50, lease: 300) }
            if due.isEmpty { break }
            // Each child returns one value (no tuple: see STACK-NOTES on task groups at -O).
            let outcomes = try await withThrowingTaskGroup(of: WebhookDeliveryState?.self) { group in
                var pending = Array(due)
                var outcomes: [WebhookDeliveryState?] = []
                func start(_ group: inout ThrowingTaskGroup<WebhookDeliveryState?, any Error>) {
                    var index = 0
                    while index < pending.count {
                        let item = pending[index]
                        let subscription = item.delivery.subscriptionID
                        if subscriptions.isFailing(subscription) {
                            deferred.append(item.delivery.id)
                            pending.remove(at: index)
                            continue
                        }
                        guard subscriptions.take(subscription) else {
                            index += 1
                            continue
                        }
                        pending.remove(at: index)
                        group.addTask {
                            let outcome = try await post(item.delivery, to: item.url, secret: item.secret, over: webhooks, render: render)
                            subscriptions.release(subscription, failed: outcome != .delivered)
                            return outcome
                        }
                        return
                    }
                }
                for _ in 0..<8 { start(&group) }
                while let outcome = try await group.next() {
                    outcomes.append(outcome)
                    for _ in 0..<8 { start(&group) }
                }
                // What is left belongs to subscriptions that failed meanwhile.
                deferred += pending.map(\.delivery.id)
                return outcomes
            }
            for outcome in outcomes {
                switch outcome {
                case .delivered?: report.webhooksDelivered += 1
                case .failed?: report.webhooksFailed += 1
                default: report.webhooksPostponed += 1
                }
            }
            if outcomes.isEmpty { break }
        }
        if !deferred.isEmpty {
            let ids = deferred
            try await blocking { try database.releaseWebhookClaims(ids: ids) }
            report.webhooksPostponed += ids.count
        }
        return report
    }

    /// One attempt of a webhook delivery: its body rendered (from the change's snapshot) at the first attempt and kept,
    /// signed with the
    /// subscription's secret and the real time (receivers check it within minutes, whatever the programme's day).
    private func post(
        _ delivery: WebhookDeliveryRecord, to url: String, secret: String, over transport: any WebhookTransport, render: WebhookRenderer
    ) async throws -> WebhookDeliveryState? {
        let body: String
        if let kept = delivery.payload {
            body = kept
        } else {
            let data = try await render(delivery) ?? "null"
            body = Self.envelope(type: delivery.eventType.rawValue, timestamp: delivery.createdAt, data: data)
            try await blocking { try database.keepWebhookPayload(id: delivery.id, payload: body) }
        }
        let bytes = Array(body.utf8)
        let timestamp = Int(Date().timeIntervalSince1970)
        guard let signature = WebhookSignature.sign(id: delivery.id, timestamp: timestamp, body: bytes, secret: secret) else {
            return try await blocking { try database.recordWebhookAttempt(delivery, status: nil, error: "unusable secret", jitter: 1) }
        }
        var status: Int?
        var failure: String?
        do {
            status = try await transport.post(
                url: url,
                headers: [
                    ("Content-Type", "application/json"), ("User-Agent", "mdp-webhooks"), ("webhook-id", delivery.id),
                    ("webhook-timestamp", String(timestamp)), ("webhook-signature", signature),
                ], body: bytes)
        } catch {
            failure = String(describing: error)
        }
        let (answered, error) = (status, failure)
        let outcome = try await blocking {
            try database.recordWebhookAttempt(delivery, status: answered, error: error, jitter: Double.random(in: 0...1))
        }
        if outcome == .failed {
            logger.warning(
                "webhook \(delivery.id) (\(delivery.eventType.rawValue)) failed for good: \((failure ?? "HTTP \(status ?? 0)").prefix(200))"
            )
        }
        return outcome
    }

    /// `{"data":…,"timestamp":"…","type":"…"}`: the event's type, when it happened, and the resource.
    static func envelope(type: String, timestamp: Date, data: String) -> String {
        let quotedType = String(decoding: (try? JSONEncoder().encode(type)) ?? Data("\"\"".utf8), as: UTF8.self)
        return "{\"data\":\(data),\"timestamp\":\"\(timestamp.formatted(.iso8601))\",\"type\":\(quotedType)}"
    }

    /// Passes every `interval` until the task is cancelled; a pass that fails is logged and the next one tries again.
    /// E-mail and webhooks run side by side: a slow receiver never holds a message back.
    public func run(every interval: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await loop(every: interval, "e-mail") { try await mailPass(maxBatches: 20) } }
            group.addTask { await loop(every: interval, "webhooks") { try await webhookPass(maxBatches: 20) } }
        }
    }

    private func loop(every interval: Duration, _ name: String, _ pass: @Sendable () async throws -> Report) async {
        while !Task.isCancelled {
            do {
                let report = try await pass()
                if report != Report() { logger.info("notifications: \(report)") }
            } catch {
                logger.error("notifications (\(name)): a pass failed: \(String(describing: error).prefix(300))")
            }
            try? await Task.sleep(for: interval)
        }
    }

    private func deliver(_ entry: OutboxEntry, into report: inout Report) async throws {
        guard let mail else {
            try await blocking { try database.settleNotice(id: entry.id, outcome: .skipped, error: "e-mail is off") }
            report.skipped += 1
            return
        }
        let reminder = entry.kind.isReminder
        let (subject, addresses) = try await blocking {
            (try database.noticeSubject(entry), try database.noticeAddresses(for: entry.recipient, reminder: reminder))
        }
        guard let subject, !addresses.isEmpty else {
            let why = subject == nil ? "its subject is gone" : "nobody to tell"
            try await blocking { try database.settleNotice(id: entry.id, outcome: .skipped, error: why) }
            report.skipped += 1
            return
        }
        let rendered = NoticeTemplates.render(
            entry.kind, subject: subject, subjectID: entry.subjectID, recipient: entry.recipient, appURL: appURL, settings: reminders)
        var bounced: [String] = []
        do {
            for address in addresses where !entry.doneFor.contains(address.accountID) {
                do {
                    try await mail.send(
                        MailMessage(
                            messageID: "\(entry.id).\(address.accountID)@\(domain)", from: sender,
                            to: try MailAddress(name: address.displayName, email: address.email), subject: rendered.subject,
                            text: NoticeTemplates.text(rendered, to: address.displayName, reminder: reminder, appURL: appURL),
                            html: NoticeTemplates.html(rendered, to: address.displayName, reminder: reminder, appURL: appURL), date: Date())
                    )
                } catch MailError.rejected(let detail) {
                    bounced.append(detail)
                } catch MailError.badAddress(let address) {
                    bounced.append("not an address: \(address.prefix(100))")
                }
                // Reached (or refused for good): a retry of this notice will not send it to this account again.
                try await blocking { try database.noteNoticeDone(id: entry.id, for: address.accountID) }
            }
        } catch {
            let detail = String(describing: error)
            let outcome = try await blocking {
                try database.recordFailedAttempt(entry, error: detail, jitter: Double.random(in: 0...1))
            }
            if outcome == .failed {
                report.failed += 1
                logger.warning("notification \(entry.id) (\(entry.kind.rawValue)) failed for good: \(detail.prefix(200))")
            } else {
                report.postponed += 1
            }
            return
        }
        let refusals = bounced.isEmpty ? nil : bounced.joined(separator: "; ")
        try await blocking { try database.settleNotice(id: entry.id, outcome: .delivered, error: refusals) }
        report.delivered += 1
    }

    /// Where messages go, for the log.
    public var destination: String {
        guard let mail else { return "e-mail off (no SMTP_URL): notices are not sent" }
        return mail is MailFolder
            ? "e-mail written to \(mail.display) (no SMTP_URL), one .eml file per message" : "e-mail through \(mail.display)"
    }

    /// The domain of Message-IDs: the front end's host.
    var domain: String { URL(string: appURL)?.host ?? "mdp.invalid" }

    /// Storage's calls block: they run off the cooperative threads.
    private func blocking<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }
}

/// A moment remembered across the passes of a worker.
final class LastTime: Sendable {
    private let value = Mutex<Date?>(nil)

    /// Whether `seconds` passed since the last time this returned true (true the first time); if so, now is the last.
    func isOlder(than seconds: TimeInterval) -> Bool {
        value.withLock { last in
            let now = Date()
            guard last.map({ now.timeIntervalSince($0) >= seconds }) ?? true else { return false }
            last = now
            return true
        }
    }
}

/// During one pass: the subscriptions with a request in flight, and those whose receiver failed.
final class PassState: Sendable {
    private let state = Mutex<(busy: Set<String>, failing: Set<String>)>(([], []))

    /// Marks `id` busy; false if it already is.
    func take(_ id: String) -> Bool { state.withLock { $0.busy.insert(id).inserted } }
    func release(_ id: String, failed: Bool) {
        state.withLock {
            $0.busy.remove(id)
            if failed { $0.failing.insert(id) }
        }
    }
    func isFailing(_ id: String) -> Bool { state.withLock { $0.failing.contains(id) } }
}
