import Domain
import Foundation
import Storage
import Synchronization
import Testing

@Suite("Trust: timing and retries at the storage level")
struct TrustStorageTests {
    /// A login for an unknown e-mail costs a bcrypt check like a wrong password for a known one, so the answer's time
    /// does not tell which e-mails have accounts (it used to take ~3 ms against ~160 ms).
    @Test func aLoginTakesAsLongForAnUnknownEmailAsForAWrongPassword() throws {
        let database = try AppDatabase.throwaway(options: .init(bcryptCost: 8))
        _ = try database.createAccount(email: "connue@example.fr", password: "le bon mot de passe", role: .admin, displayName: "Connue")
        func median(_ email: String) -> Duration {
            var times: [Duration] = []
            for attempt in 0..<3 {
                let clock = ContinuousClock()
                let start = clock.now
                _ = try? database.login(email: email, password: "un mauvais mot de passe", address: "10.0.0.\(attempt)")
                times.append(clock.now - start)
            }
            return times.sorted()[1]
        }
        let known = median("connue@example.fr")
        let unknown = median("inconnue@example.fr")
        let ratio = unknown / known
        #expect(ratio > 0.4 && ratio < 2.5, "unknown \(unknown), known \(known)")
    }

    /// A request cut by a crash leaves its key claimed; the next start releases it when nothing was applied, so a retry
    /// runs instead of answering "in progress" for 24 hours, and answers "carried out" when its write was committed.
    @Test func keysOfRequestsThatNeverFinishedAreFreeAgainOrKnownDoneAfterARestart() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mdp-keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let before = try AppDatabase.file(inDirectory: folder)
        #expect(try before.beginIdempotent(scope: "user:1", key: "k", fingerprint: "f") == .proceed)
        #expect(try before.beginIdempotent(scope: "user:1", key: "done", fingerprint: "f") == .proceed)
        try before.finishIdempotent(scope: "user:1", key: "done", response: .init(status: 201, headers: [], body: Data()))
        #expect(try before.beginIdempotent(scope: "user:1", key: "k", fingerprint: "f") == .inProgress)
        // A third request's write was committed, then the process died before its answer was kept.
        #expect(try before.beginIdempotent(scope: "user:1", key: "applied", fingerprint: "f") == .proceed)
        let account = try before.createAccount(email: "equipe@example.fr", password: nil, role: .admin, displayName: "Équipe")
        _ = try IdempotencyClaim.with(.init(scope: "user:1", key: "applied")) {
            try before.createPersonalToken(for: account, name: "intégration", days: 30)
        }
        let after = try AppDatabase.file(inDirectory: folder)
        let lost = StoredResponse(status: 409, headers: [], body: Data("answer lost".utf8))
        let settled = try after.releaseUnfinishedIdempotencyKeys(answerLost: lost)
        #expect(settled.released == 1 && settled.settled == 1)
        #expect(try after.beginIdempotent(scope: "user:1", key: "k", fingerprint: "f") == .proceed)
        // Carried out before the crash: the retry is told so, and nothing is applied twice.
        #expect(try after.beginIdempotent(scope: "user:1", key: "applied", fingerprint: "f") == .replay(lost))
        #expect(try after.personalTokens(userID: account.id).count == 1)
        // A finished request keeps its answer.
        #expect(
            try after.beginIdempotent(scope: "user:1", key: "done", fingerprint: "f")
                == .replay(.init(status: 201, headers: [], body: Data())))
    }
}

@Suite("Trust: what an expert writes stays out of the team's private notes")
struct PrivateNotesTests {
    @Test func anExpertsWithdrawalNoteIsNotKeptAsAPrivateReviewNote() throws {
        let database = try AppDatabase.throwaway()
        let content = ExpertCardContent(
            firstName: "Claire", lastName: "Martin", organisation: Organisation(name: "Martin Conseil", siret: "73282932000074"),
            contact: ContactDetails(email: "claire@example.fr", phone: "06 12 34 56 78"), summary: "Modèle économique.",
            subthemeCodes: ["4.2"], coverage: Coverage(regionCodes: ["84"]), sectors: ["bois"],
            experiences: [PriorExperience(tiersLieu: "La Quincaillerie", description: "Plan de financement", productive: true)],
            declaration: NoInterestDeclaration(signatory: "Claire Martin", signedOn: CalendarDate(2023, 2, 10)!))
        let expert = try database.importExpert(content, state: .published, password: "un mot de passe sûr")
        _ = try database.transitionExpertCard(
            id: expert.expertID, action: .withdraw, by: expert.account, ifRevision: nil, message: "Je pars à la retraite",
            note: "écrit par l'expert")
        let last = try #require(try database.reviewEntries(expertID: expert.expertID).last)
        #expect(last.action == .withdraw && last.note == nil && last.message == "Je pars à la retraite")
    }
}

@Suite("Trust: keys of requests whose instance died")
struct IdempotencyLeaseTests {
    /// With several instances no restart settles the keys a dead instance held: past the lease, a retry takes the key
    /// over when nothing was applied (and the first request, were it only slow, can no longer apply), or is told the
    /// request was carried out.
    @Test func pastTheLeaseARetryTakesOverOrLearnsTheRequestWasCarriedOut() throws {
        let clock = Mutex(Date(timeIntervalSince1970: 1_700_000_000))
        let database = try AppDatabase.throwaway(options: .init(clock: { clock.withLock { $0 } }, bcryptCost: 4))
        let account = try database.createAccount(email: "equipe@example.fr", password: nil, role: .admin, displayName: "Équipe")
        let lost = StoredResponse(status: 409, headers: [], body: Data("answer lost".utf8))
        func begin(_ key: String, _ claim: String) throws -> IdempotencyDecision {
            try database.beginIdempotent(scope: "user:1", key: key, fingerprint: "f", claim: claim, answerLost: lost)
        }
        #expect(try begin("slow", "first") == .proceed)
        #expect(try begin("applied", "first") == .proceed)
        _ = try IdempotencyClaim.with(.init(scope: "user:1", key: "applied", claim: "first")) {
            try database.createPersonalToken(for: account, name: "avant", days: 30)
        }
        // Within the lease the first requests are taken to be running.
        clock.withLock { $0 = $0.addingTimeInterval(AppDatabase.idempotencyLease - 1) }
        #expect(try begin("slow", "retry") == .inProgress)
        #expect(try begin("applied", "retry") == .inProgress)
        // Past it: nothing applied, the retry runs; applied, the retry learns it was carried out.
        clock.withLock { $0 = $0.addingTimeInterval(2) }
        #expect(try begin("slow", "retry") == .proceed)
        #expect(try begin("applied", "retry") == .replay(lost))
        // The first request, were it still running, can no longer apply anything: its write is refused whole.
        #expect(throws: StorageError.claimLost) {
            try IdempotencyClaim.with(.init(scope: "user:1", key: "slow", claim: "first")) {
                try database.createPersonalToken(for: account, name: "doublon", days: 30)
            }
        }
        _ = try IdempotencyClaim.with(.init(scope: "user:1", key: "slow", claim: "retry")) {
            try database.createPersonalToken(for: account, name: "reprise", days: 30)
        }
        // Its late answer is not kept over the retry's.
        try database.finishIdempotent(scope: "user:1", key: "slow", claim: "first", response: .init(status: 500, headers: [], body: Data()))
        try database.finishIdempotent(scope: "user:1", key: "slow", claim: "retry", response: .init(status: 201, headers: [], body: Data()))
        #expect(try begin("slow", "third") == .replay(.init(status: 201, headers: [], body: Data())))
        #expect(try database.personalTokens(userID: account.id).compactMap(\.name).sorted() == ["avant", "reprise"])
    }

    /// A request that failed on the server's side (the database lost during its commit) settles its key at once: a
    /// retry runs it again when nothing was committed, and is told it was carried out when it was; never "in progress"
    /// for the whole lease, never applied twice.
    @Test func aFailedRequestSettlesItsKeyByWhatWasCommitted() throws {
        let database = try AppDatabase.throwaway()
        let lost = StoredResponse(status: 409, headers: [], body: Data("answer lost".utf8))
        #expect(try database.beginIdempotent(scope: "user:1", key: "rolled-back", fingerprint: "f", claim: "c1") == .proceed)
        try database.settleIdempotent(scope: "user:1", key: "rolled-back", claim: "c1", answerLost: lost)
        #expect(try database.beginIdempotent(scope: "user:1", key: "rolled-back", fingerprint: "f", claim: "c2") == .proceed)

        #expect(try database.beginIdempotent(scope: "user:1", key: "committed", fingerprint: "f", claim: "c3") == .proceed)
        let account = try database.createAccount(email: "equipe@example.fr", password: nil, role: .admin, displayName: "Équipe")
        _ = try IdempotencyClaim.with(.init(scope: "user:1", key: "committed", claim: "c3")) {
            try database.createPersonalToken(for: account, name: "intégration", days: 30)
        }
        try database.settleIdempotent(scope: "user:1", key: "committed", claim: "c3", answerLost: lost)
        #expect(try database.beginIdempotent(scope: "user:1", key: "committed", fingerprint: "f", claim: "c4") == .replay(lost))
        #expect(try database.personalTokens(userID: account.id).count == 1)
        // Another claim's key (a retry took it over) is not touched.
        try database.settleIdempotent(scope: "user:1", key: "rolled-back", claim: "c1", answerLost: lost)
        #expect(try database.beginIdempotent(scope: "user:1", key: "rolled-back", fingerprint: "f", claim: "c5") == .inProgress)
    }
}
