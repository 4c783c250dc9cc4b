import Domain
import Foundation
import HTTPTypes
import NIOPosix
import Storage

extension APIProblem {
    /// Each storage refusal as a status and a stable code.
    init(_ error: StorageError) {
        switch error {
        case .notFound:
            self = .notFound()
        case .forbidden:
            self.init(.forbidden, code: "forbidden", title: "Your role may not do this")
        case .stale(let current):
            self.init(
                .preconditionFailed, code: "stale", title: "The resource changed since you read it",
                detail: "Its current ETag is \"r\(current)\": read it again, then retry.")
        case .emailTaken:
            self.init(.conflict, code: "email_taken", title: "An account already uses this e-mail")
        case .invalidCredentials:
            self.init(
                .unauthorized, code: "invalid_credentials", title: "Wrong e-mail or password", headers: [.wwwAuthenticate: "Bearer"])
        case .throttled(let seconds):
            self.init(
                .tooManyRequests, code: "too_many_attempts", title: "Too many attempts from here or for this account",
                detail: "Try again in \(seconds) seconds.", headers: [.retryAfter: String(seconds)])
        case .invalid(let errors):
            self.init(.unprocessableContent, code: "validation_failed", title: "Some fields are invalid", errors: errors)
        case .card(.incomplete(let errors)):
            self.init(.unprocessableContent, code: "card_incomplete", title: "The card misses some answers", errors: errors)
        case .card(.transitionNotAllowed(let from, let action, _)):
            self.init(
                .conflict, code: "transition_not_allowed", title: "Not possible in this state",
                detail: "A card that is \(from.rawValue) cannot take '\(action.rawValue)'.")
        case .card(.notEditable(let state)):
            self.init(
                .conflict, code: "card_not_editable", title: "The card cannot be edited now",
                detail: "A card that is \(state.rawValue) is edited only after it is sent back for changes or reopened.")
        case .mission(let error):
            self.init(error)
        case .accountLink:
            self.init(.conflict, code: "account_already_linked", title: "The account is already tied to an expert card or a laureate")
        case .busy:
            self.init(
                .serviceUnavailable, code: "busy", title: "The database is busy; try again in a moment",
                headers: [.retryAfter: "1"])
        case .unavailable:
            self = .databaseUnavailable
        case .sessionRequired:
            self.init(
                .forbidden, code: "session_required", title: "Log in with your password to do this",
                detail: "A personal access token, given to an integration, cannot erase its account.")
        case .missionsInProgress(let refs):
            self.init(
                .conflict, code: "missions_in_progress", title: "Your running missions must end first",
                detail:
                    "Missions \(refs.joined(separator: ", ")) are still running: once they are closed, declined, cancelled or terminated, ask again. The programme team can help."
            )
        case .claimLost:
            self.init(
                .conflict, code: "idempotency_superseded", title: "A retry with this Idempotency-Key carried the request out instead",
                detail: "This request ran past the key's lease; nothing of it was applied.")
        }
    }

    /// Each mission rule's refusal in the programme's words.
    init(_ error: MissionError) {
        switch error {
        case .transitionNotAllowed(let from, let action, let actor):
            if MissionWorkflow.transitions.contains(where: { $0.action == action && $0.actor == actor }) {
                self.init(
                    .conflict, code: "transition_not_allowed", title: "Not possible in this state",
                    detail: "A mission that is \(from.rawValue) cannot take '\(action.rawValue)'.")
            } else {
                self.init(.forbidden, code: "forbidden", title: "Your role may not do this to a mission")
            }
        case .framingNoteMissing(let laureate):
            self.init(
                .conflict, code: "framing_note_missing", title: "The laureate has no framing note yet",
                detail: "Without a framing note, laureate \(laureate) cannot start custom support.")
        case .conflictOfInterest:
            // Which laureate is concerned is not said: a declared interest is known to the team, not to other laureates.
            self.init(
                .conflict, code: "conflict_of_interest", title: "This expert has a declared interest in a laureate of this mission",
                detail: "A laureate cannot engage an expert who declared an interest in it.")
        case .budgetExceeded(let laureate, let requested, let remaining):
            self.init(
                .conflict, code: "budget_exceeded", title: "The quote exceeds the laureate's remaining support",
                detail:
                    "Laureate \(laureate) has \(remaining) cents left (\(Money.formatted(remaining))); this share is \(requested) cents.")
            remainingCents = remaining
        case .outsideWindow(let date, let window):
            self.init(
                .conflict, code: "outside_window", title: "Outside the programme's support window",
                detail: "\(date) is not between \(window.start) and \(window.end).")
        case .quoteExpired(let validUntil):
            self.init(.conflict, code: "quote_expired", title: "The quote is no longer valid", detail: "It was valid until \(validUntil).")
        case .invalid(let errors):
            self.init(.unprocessableContent, code: "validation_failed", title: "Some fields are invalid", errors: errors)
        case .reasonRequired:
            self.init(
                .unprocessableContent, code: "validation_failed", title: "A reason is required",
                errors: [FieldError("/reason", "required", "Say why.")])
        case .alreadyDone(_, let action):
            self.init(.conflict, code: "already_done", title: "Already done", detail: "Your laureate already did '\(action.rawValue)'.")
        case .notAParticipant:
            self = .notFound()
        case .notPooled:
            self.init(
                .conflict, code: "not_pooled", title: "Only a pooled mission can be left",
                detail: "A laureate alone on a mission declines or cancels it.")
        case .invitationsPending(let laureates):
            self.init(
                .conflict, code: "invitations_pending", title: "Invited laureates have not answered yet",
                detail: "\(laureates.count) invited laureate(s) must join or decline before the request can be taken up.")
        case .othersTakePart:
            self.init(
                .conflict, code: "others_take_part", title: "Other laureates take part in this pooled mission",
                detail: "Leave the mission (action 'leave'): it goes on for the others. The programme team or the expert may end it.")
        case .notJoined:
            self.init(
                .conflict, code: "invitation_not_answered", title: "Your laureate is only invited to this pooled mission",
                detail: "Join the mission (action 'join') or decline the invitation (action 'leave') first.")
        }
    }

    static func badParameter(_ name: String, _ code: String, _ detail: String) -> APIProblem {
        APIProblem(.badRequest, code: "invalid_parameter", title: "A parameter is invalid", errors: [FieldError("/\(name)", code, detail)])
    }
}

/// Runs a storage call on the blocking pool, turning its refusals into problems. Every database call of the HTTP layer
/// goes through here: GRDB's calls block while they wait for a connection, and they must never do so on Swift
/// concurrency's threads (as many as cores) or NIO's event loops, or a few concurrent requests freeze the server.
func storage<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    // The request's Idempotency-Key travels with the work (task-locals stay behind on the pool's threads).
    let claim = IdempotencyMiddleware.claim
    let start = DispatchTime.now().uptimeNanoseconds
    defer { APIMetrics.current?.database(nanoseconds: DispatchTime.now().uptimeNanoseconds &- start) }
    do {
        return try await BlockingPool.shared.run { try IdempotencyClaim.with(claim, body) }
    } catch let error as StorageError {
        throw APIProblem(error)
    } catch let failure as PostgresFailure where failure.isUnreachable {
        throw APIProblem.databaseUnavailable
    } catch BlobError.uploadExpired {
        throw APIProblem(
            .conflict, code: "upload_expired", title: "The upload took longer than the server keeps unfinished uploads",
            detail: "Nothing was recorded; send the file again.")
    }
}

/// The threads where blocking work (database transactions, bcrypt, file reads and writes) runs, apart from Swift
/// concurrency's cooperative pool and NIO's event loops. Sized above the database's connections (5 readers and a
/// writer), so waiting for one never holds up work that could run.
public enum BlockingPool {
    /// How many threads: enough for every database connection plus bcrypt and file work.
    public static let threadCount = 16

    static let shared: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: threadCount)
        pool.start()
        return pool
    }()

    /// Runs `body` on the pool (work of the server's own, outside requests).
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await shared.run(body)
    }
}

extension NIOThreadPool {
    /// Runs `body` on one of the pool's threads and resumes the caller with its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await runIfActive(body)
    }
}

/// Revisions travel as strong ETags `"r<revision>"`.
enum RevisionTag {
    static func etag(_ revision: Int64) -> String { "\"r\(revision)\"" }

    /// The revision an `If-Match` names; nil for `*` (any). Missing is 428, unreadable is 412.
    static func expected(ifMatch header: String?) throws -> Int64? {
        guard let header else {
            throw APIProblem(.preconditionRequired, code: "if_match_required", title: "Send If-Match with the ETag you read")
        }
        var tag = header.trimmingCharacters(in: .whitespaces)
        if tag == "*" { return nil }
        if tag.hasPrefix("W/") { tag.removeFirst(2) }
        guard tag.hasPrefix("\"r"), tag.hasSuffix("\""), let revision = Int64(tag.dropFirst(2).dropLast()) else {
            throw APIProblem(.preconditionFailed, code: "stale", title: "The If-Match header names no version of this resource")
        }
        return revision
    }
}

extension APIProblem {
    /// The database was lost or stopped answering while the request ran: what was sent may or may not have been
    /// committed, and the answer says so (a retry with the same `Idempotency-Key` learns which; nothing is applied
    /// twice).
    static var databaseUnavailable: APIProblem {
        APIProblem(
            .serviceUnavailable, code: "database_unavailable", title: "The database cannot be reached right now",
            detail:
                "A change sent now may or may not have been recorded: retry with the same Idempotency-Key to learn which (without one, read the resource first).",
            headers: [.retryAfter: "5"])
    }
}
