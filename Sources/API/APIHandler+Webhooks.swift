import Domain
import Foundation
import OpenAPIRuntime
import Storage

/// The programme team's webhook subscriptions and their deliveries (issue 13). Admin only: every payload is what the
/// team reads through the API.
extension APIHandler {
    func listWebhookSubscriptions(_ input: Operations.ListWebhookSubscriptions.Input) async throws
        -> Operations.ListWebhookSubscriptions.Output
    {
        let account = try RequestInfo.account(in: [.admin])
        let limit = try pageLimit(input.query.limit)
        let subscriptions = try await storage { try database.webhookSubscriptions(for: account) }
        let page = try PageCursor.page(subscriptions, limit: limit, cursor: input.query.cursor) {
            [String(format: "%020.3f", $0.createdAt.timeIntervalSince1970), $0.id]
        }
        return .ok(
            .init(
                body: .json(
                    .init(items: page.items.map(Components.Schemas.WebhookSubscription.init), nextCursor: page.next, hasMore: page.more))))
    }

    func createWebhookSubscription(_ input: Operations.CreateWebhookSubscription.Input) async throws
        -> Operations.CreateWebhookSubscription.Output
    {
        let account = try RequestInfo.account(in: [.admin])
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedBody }
        let secret = WebhookRules.newSecret()
        let created = try await webhookChange {
            try database.createWebhookSubscription(
                url: body.url, eventTypes: body.eventTypes.map(\.rawValue), description: body.description ?? "", secret: secret, by: account
            )
        }
        return .created(
            .init(
                headers: .init(eTag: RevisionTag.etag(created.revision)), body: .json(.init(secret: secret, subscription: .init(created)))))
    }

    func getWebhookSubscription(_ input: Operations.GetWebhookSubscription.Input) async throws -> Operations.GetWebhookSubscription.Output {
        let account = try RequestInfo.account(in: [.admin])
        let subscription = try await storage { try database.webhookSubscription(id: input.path.subscriptionId, for: account) }
        return .ok(.init(headers: .init(eTag: RevisionTag.etag(subscription.revision)), body: .json(.init(subscription))))
    }

    func updateWebhookSubscription(_ input: Operations.UpdateWebhookSubscription.Input) async throws
        -> Operations.UpdateWebhookSubscription.Output
    {
        let account = try RequestInfo.account(in: [.admin])
        guard case .json(let patch) = input.body else { throw APIProblem.unsupportedBody }
        _ = try await storage { try database.webhookSubscription(id: input.path.subscriptionId, for: account) }
        let expected = try RevisionTag.expected(ifMatch: input.headers.ifMatch)
        let changed = try await webhookChange {
            try database.updateWebhookSubscription(
                id: input.path.subscriptionId, url: patch.url, eventTypes: patch.eventTypes?.map(\.rawValue),
                description: patch.description,
                active: patch.active, ifRevision: expected, by: account)
        }
        return .ok(.init(headers: .init(eTag: RevisionTag.etag(changed.revision)), body: .json(.init(changed))))
    }

    func deleteWebhookSubscription(_ input: Operations.DeleteWebhookSubscription.Input) async throws
        -> Operations.DeleteWebhookSubscription.Output
    {
        let account = try RequestInfo.account(in: [.admin])
        try await storage { try database.deleteWebhookSubscription(id: input.path.subscriptionId, by: account) }
        return .noContent(.init())
    }

    func listWebhookDeliveries(_ input: Operations.ListWebhookDeliveries.Input) async throws -> Operations.ListWebhookDeliveries.Output {
        let account = try RequestInfo.account(in: [.admin])
        let limit = try pageLimit(input.query.limit)
        let after = try PageCursor.decode(input.query.cursor, as: DeliveryPosition.self)
        // A cursor's moment comes from the client: a finite time within the years the database holds, or refused.
        if let after, !(after.at.isFinite && abs(after.at) < 200_000_000_000) {
            throw APIProblem.badParameter("cursor", "invalid_cursor", "Not a cursor of this list.")
        }
        let state = input.query.state.flatMap { WebhookDeliveryState(rawValue: $0.rawValue) }
        let page = try await storage {
            try database.webhookDeliveries(
                state: state, subscriptionID: input.query.subscriptionId,
                after: after.map { (Date(timeIntervalSince1970: $0.at), $0.id) }, limit: limit + 1, for: account)
        }
        let items = Array(page.prefix(limit))
        let next = items.last.map { PageCursor.encode(DeliveryPosition(at: $0.createdAt.timeIntervalSince1970, id: $0.id)) }
        return .ok(
            .init(
                body: .json(.init(items: items.map(Components.Schemas.WebhookDelivery.init), nextCursor: next, hasMore: page.count > limit))
            ))
    }

    func replayWebhookDelivery(_ input: Operations.ReplayWebhookDelivery.Input) async throws -> Operations.ReplayWebhookDelivery.Output {
        let account = try RequestInfo.account(in: [.admin])
        let delivery = try await storage { try database.replayWebhookDelivery(id: input.path.deliveryId, by: account) }
        return .accepted(.init(body: .json(.init(delivery))))
    }

    /// A subscription change, its refusals said field by field.
    private func webhookChange<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        do {
            return try await storage(work)
        } catch let error as WebhookError {
            let field: FieldError =
                switch error {
                case .badURL:
                    FieldError(
                        "/url", "invalid_url",
                        "An http(s) URL of at most 2000 printable ASCII characters (percent-encode the path, punycode the host), a port of 1 to 65535, without credentials nor fragment."
                    )
                case .noEventTypes: FieldError("/event_types", "required", "Choose at least one event type.")
                case .unknownEventType(let type): FieldError("/event_types", "unknown_event_type", "Not an event type: \(type.prefix(50)).")
                case .descriptionTooLong: FieldError("/description", "too_long", "At most 500 characters.")
                }
            throw APIProblem(.unprocessableContent, code: "validation_failed", title: "Some fields are invalid", errors: [field])
        }
    }

}

/// Where a page of deliveries ended.
private struct DeliveryPosition: Codable {
    let at: Double
    let id: String
}

/// The `data` of webhook events: the resource as the API returns it to the programme team.
public enum WebhookPayloads {
    /// The team's view, for rendering (no request, no token: the worker's own reading).
    static let team = Account(id: "webhooks", email: "webhooks@mdp.invalid", role: .admin, displayName: "Webhooks", link: .none)

    /// Renders the mission or expert card an event is about as JSON: as it stood right after the change (the
    /// delivery's snapshot), or as it stands now for a delivery without one; nil when it is gone.
    public static func renderer(_ database: AppDatabase) -> @Sendable (WebhookDeliveryRecord) async throws -> String? {
        { delivery in
            try await BlockingPool.shared.run {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .custom { date, encoder in
                    var container = encoder.singleValueContainer()
                    try container.encode(date.formatted(.iso8601))
                }
                do {
                    let snapshot =
                        try delivery.snapshot
                        ?? (delivery.eventType == .cardSubmitted
                            ? .card(
                                try database.expertCard(id: delivery.subjectID, for: team),
                                reviews: try database.reviewEntries(expertID: delivery.subjectID))
                            : .mission(try database.mission(id: delivery.subjectID, for: team)))
                    let data: Data
                    switch snapshot {
                    case .card(let card, let reviews):
                        data = try encoder.encode(
                            Components.Schemas.ExpertCard(card, actor: team.cardActor(for: card.id), reviews: reviews))
                    case .mission(let record):
                        data = try encoder.encode(Components.Schemas.Mission(record, for: team))
                    }
                    return String(decoding: data, as: UTF8.self)
                } catch StorageError.notFound {
                    return nil
                }
            }
        }
    }
}

extension Components.Schemas.WebhookSubscription {
    init(_ subscription: WebhookSubscription) {
        self.init(
            id: subscription.id, url: subscription.url,
            eventTypes: subscription.eventTypes.compactMap { Components.Schemas.WebhookEventType(rawValue: $0.rawValue) },
            description: subscription.description, active: subscription.active, createdAt: subscription.createdAt)
    }
}

extension Components.Schemas.WebhookDelivery {
    init(_ delivery: WebhookDeliveryRecord) {
        self.init(
            id: delivery.id, subscriptionId: delivery.subscriptionID,
            eventType: Components.Schemas.WebhookEventType(rawValue: delivery.eventType.rawValue) ?? .mission_requested,
            subjectId: delivery.subjectID, createdAt: delivery.createdAt,
            state: Components.Schemas.WebhookDeliveryState(rawValue: delivery.state.rawValue) ?? .waiting, attempts: delivery.attempts,
            nextAttemptAt: delivery.nextAttemptAt, deliveredAt: delivery.deliveredAt, lastStatus: delivery.lastStatus,
            lastError: delivery.lastError)
    }
}
