import Domain
import Foundation
import Notify
import Storage
import Testing

/// E-mails of the outbox (issue 13): composed as mail readers expect, sent over SMTP to a real server (aiosmtpd, started
/// by scripts/with-test-servers.sh), tried again when the server is away, never lost, never for a change rolled back.
@Suite("E-mail notices")
struct MailMessageTests {
    @Test func aSubjectOrNameCannotInjectAHeaderAndNonASCIIIsEncoded() throws {
        let message = MailMessage(
            messageID: "n1.a1@mdp.test", from: try MailAddress(name: "Équipe MdP", email: "equipe@ftl.fr"),
            to: try MailAddress(name: "Zoé\r\nBcc: victim@evil.example", email: "zoe@manufacture.fr"),
            subject: "Proposition reçue : « Foncier »\r\nBcc: victim@evil.example", text: "Bonjour Zoé", html: "<p>Bonjour</p>",
            date: Date(timeIntervalSince1970: 1_700_000_000))
        let text = String(decoding: message.encoded(), as: UTF8.self)
        let head = text.components(separatedBy: "\r\n\r\n")[0]
        #expect(!head.contains("\r\nBcc:") && !head.contains("\nBcc:"))
        #expect(head.contains("Message-ID: <n1.a1@mdp.test>") && head.contains("Date: Tue, 14 Nov 2023 22:13:20 +0000"))
        #expect(ReceivedMail.header("Subject", in: head) == "Proposition reçue : « Foncier » Bcc: victim@evil.example")
        #expect(ReceivedMail.header("To", in: head) == "Zoé Bcc: victim@evil.example <zoe@manufacture.fr>")
        #expect(text.split(separator: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        #expect(text.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(ReceivedMail(text: text).plain == "Bonjour Zoé")
        for bad in ["a@b\r\nRCPT TO:<x@y>", "no-at-sign", "<x@y>", "a b@c.fr", "@c.fr", "é@c.fr"] {
            #expect(throws: MailError.self) { try MailAddress(email: bad) }
        }
    }

    @Test func anSMTPURLIsReadWithItsDefaultsAndItsPasswordIsNeverShown() throws {
        #expect(try SMTPServer(url: "smtp://relay.example.fr").display == "smtp://relay.example.fr:587")
        #expect(try SMTPServer(url: "smtps://u:p%40ss@relay.example.fr").display == "smtps://u@relay.example.fr:465")
        for bad in ["http://relay.example.fr", "smtp://", "smtp://relay:0", "smtp://relay/path", "relay.example.fr"] {
            #expect(throws: MailError.self) { try SMTPServer(url: bad) }
        }
        let refused = String(describing: (try? SMTPServer(url: "ftp://u:secret@relay")).map { _ in "" } ?? "")
        #expect(!refused.contains("secret"))
    }
}

@Suite(
    "E-mail notices over a real SMTP server",
    .enabled(if: ProcessInfo.processInfo.environment["MDP_TEST_SMTP"] != nil)
)
struct DeliveryTests {
    static let environment = ProcessInfo.processInfo.environment
    static let appURL = "https://manufactures.example.fr"

    func delivery(_ p: Programme, mail: (any MailTransport)?) throws -> NoticeDelivery {
        NoticeDelivery(
            database: p.database, mail: mail, sender: try MailAddress(name: "Manufactures de proximité", email: "ne-pas-repondre@ftl.fr"),
            appURL: Self.appURL)
    }

    @Test func aLoginIsNeverSentToAServerThatOffersNoTLS() async throws {
        let sink = try MailSink(folder: Self.environment["MDP_TEST_SMTP_DIR"]!)
        let plain = Self.environment["MDP_TEST_SMTP"]!.replacingOccurrences(of: "smtp://", with: "smtp://notices:secret-in-clear@")
        let id = "<clear-\(UUID().uuidString)@ftl.fr>"
        let message = MailMessage(
            messageID: id, from: try MailAddress(email: "ne-pas-repondre@ftl.fr"), to: try MailAddress(email: "equipe@ftl.fr"),
            subject: "Test", text: "Test", html: "<p>Test</p>", date: Date())
        await #expect(throws: MailError.self) { try await SMTPServer(url: plain).send(message) }
        let received = try FileManager.default.contentsOfDirectory(at: sink.folder, includingPropertiesForKeys: nil)
        #expect(try received.allSatisfy { !String(decoding: try Data(contentsOf: $0), as: UTF8.self).contains(id) })
    }

    @Test func eachHandOffReachesWhoMustActInFrenchWithTheLinkAndAStableID() async throws {
        let sink = try MailSink(folder: Self.environment["MDP_TEST_SMTP_DIR"]!)
        let p = try Programme.make(ceilings: [1_000_000])
        let laureate = p.laureates[0]
        let smtp = try SMTPServer(url: Self.environment["MDP_TEST_SMTP"]!)
        var mission = ""
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(laureate)
            mission = try await client.newMission(p, by: laureate, title: "Modèle économique")
        }
        let first = try await delivery(p, mail: smtp).runOnce()
        #expect(first.delivered == 1 && first.postponed == 0)
        let received = try sink.messages(about: mission)
        #expect(received.count == 1)
        let request = try #require(received.first)
        #expect(request.envelope.rcptTos == ["claire@conseil.fr"] && request.envelope.mailFrom == "ne-pas-repondre@ftl.fr")
        #expect(request.subject == "Nouvelle demande de mission : Modèle économique — à étudier")
        #expect(request.plain.contains("Manufacture 1 vous sollicite") && request.plain.contains("\(Self.appURL)/missions/\(mission)"))
        #expect(request.html.contains("href=\"\(Self.appURL)/missions/\(mission)\""))
        let entry = try p.database.outboxCounts()
        #expect(entry.delivered == 1 && entry.waiting == 0)
        // Nothing is sent twice by a second pass.
        #expect(try await delivery(p, mail: smtp).runOnce() == NoticeDelivery.Report())
        #expect(try sink.messages(about: mission).count == 1)

        // The proposal goes to the laureate's members (do this) and to the team (follow this), worded for each.
        try await makeApplication(database: p.database).test(.router) { client in
            _ = try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin)
            _ = try await client.step(mission, p.expert, proposalBody(totalBeforeVAT: 500_000), reader: p.admin)
        }
        #expect(try await delivery(p, mail: smtp).runOnce().delivered == 2)
        let proposals = try sink.messages(about: mission).filter { $0.subject.hasPrefix("Proposition") }
        #expect(
            Set(proposals.map(\.subject)) == [
                "Proposition reçue : Modèle économique — validez-la ou renvoyez-la", "Proposition envoyée : Modèle économique — à suivre",
            ])
        #expect(Set(proposals.flatMap(\.envelope.rcptTos)) == ["membre1@manufacture.fr", "equipe@ftl.fr"])
        #expect(Set(proposals.map(\.messageID)).count == 2 && proposals.allSatisfy { $0.messageID.hasSuffix("@manufactures.example.fr>") })
    }

    @Test func aServerAwayIsTriedAgainLaterAndTheMessageArrivesOnce() async throws {
        let sink = try MailSink(folder: Self.environment["MDP_TEST_SMTP_DIR"]!)
        let (p, mission) = try await Programme.withRequest("Serveur absent")
        // Nothing listens on this port: the attempt fails and the notice waits its turn.
        let away = try SMTPServer(url: "smtp://127.0.0.1:\(try closedPort())")
        let failed = try await delivery(p, mail: away).runOnce()
        #expect(failed.postponed == 1 && failed.delivered == 0)
        #expect(try p.database.outboxCounts().waiting == 1)
        // Not due yet: even the right server is not tried before the backoff ends.
        let smtp = try SMTPServer(url: Self.environment["MDP_TEST_SMTP"]!)
        #expect(try await delivery(p, mail: smtp).runOnce() == NoticeDelivery.Report())
        p.clock.advance(by: 60)
        #expect(try await delivery(p, mail: smtp).runOnce().delivered == 1)
        #expect(try sink.messages(about: mission).count == 1)
    }

    @Test func anAddressRefusedForGoodIsNotTriedAgainAndTheOthersGetOneCopy() async throws {
        let sink = try MailSink(folder: Self.environment["MDP_TEST_SMTP_DIR"]!)
        let p = try Programme.make(ceilings: [1_000_000])
        // The laureate has a second member, whose address the SMTP server refuses for good (550).
        _ = try p.database.createAccount(
            email: "absent@manufacture.fr", password: nil, role: .laureate, displayName: "Absent", link: .laureate(id: p.laureates[0].id))
        var mission = ""
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(p.laureates[0])
            mission = try await client.newMission(p, by: p.laureates[0], title: "Adresse refusée")
            _ = try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin)
            _ = try await client.step(mission, p.expert, proposalBody(totalBeforeVAT: 500_000), reader: p.admin)
        }
        let smtp = try SMTPServer(url: Self.environment["MDP_TEST_SMTP"]!)
        let report = try await delivery(p, mail: smtp).runOnce()
        #expect(report.postponed == 0 && report.delivered == 3)  // the request; the proposal to the laureate and the team
        p.clock.advance(by: 3_600)
        #expect(try await delivery(p, mail: smtp).runOnce() == NoticeDelivery.Report())
        let proposals = try sink.messages(about: mission).filter { $0.subject.hasPrefix("Proposition reçue") }
        #expect(proposals.map(\.envelope.rcptTos) == [["membre1@manufacture.fr"]])
    }

    @Test func aServerAwayForThreeDaysMarksTheNoticeFailed() async throws {
        let (p, _) = try await Programme.withRequest("Jamais")
        let away = try SMTPServer(url: "smtp://127.0.0.1:\(try closedPort())")
        var report = NoticeDelivery.Report()
        for _ in 0..<40 where report.failed == 0 {
            report = try await delivery(p, mail: away).runOnce()
            p.clock.advance(by: 6 * 3_600)
        }
        let counts = try p.database.outboxCounts()
        #expect(report.failed == 1 && counts.failed == 1 && counts.waiting == 0)
    }

    @Test func withEMailOffNothingPilesUp() async throws {
        let (p, _) = try await Programme.withRequest("Sans courriel")
        #expect(try await delivery(p, mail: nil).runOnce().skipped == 1)
        #expect(try p.database.outboxCounts().waiting == 0)
        // Settled notices are forgotten after 30 days.
        p.clock.advance(by: 29 * 86_400)
        #expect(try p.database.purgeSettledNotifications() == 0)
        p.clock.advance(by: 2 * 86_400)
        #expect(try p.database.purgeSettledNotifications() == 1 && p.database.outboxCounts().skipped == 0)
    }

    @Test func overSTARTTLSWithALoginTheMessageArrives() async throws {
        let sink = try MailSink(folder: Self.environment["MDP_TEST_SMTP_SECURE_DIR"]!)
        let (p, mission) = try await Programme.withRequest("Chiffré")
        let secure = try SMTPServer(url: Self.environment["MDP_TEST_SMTP_SECURE"]!, caFile: Self.environment["MDP_TEST_SMTP_CA"])
        #expect(try await delivery(p, mail: secure).runOnce().delivered == 1)
        let received = try sink.messages(about: mission)
        #expect(received.count == 1 && received.allSatisfy { $0.envelope.tls && $0.envelope.authenticated })
        // A wrong password is a failed attempt, tried again later, not a message lost.
        let (p2, _) = try await Programme.withRequest("Mauvais mot de passe")
        let wrong = try SMTPServer(
            url: Self.environment["MDP_TEST_SMTP_SECURE"]!.replacingOccurrences(of: "passe@", with: "pas@"),
            caFile: Self.environment["MDP_TEST_SMTP_CA"])
        #expect(try await delivery(p2, mail: wrong).runOnce().postponed == 1)
    }

    @Test func overImplicitTLSTheMessageArrivesAndAnUntrustedCertificateIsRefused() async throws {
        let sink = try MailSink(folder: Self.environment["MDP_TEST_SMTPS_DIR"]!)
        let (p, mission) = try await Programme.withRequest("TLS d'emblée")
        // The server's certificate is self-signed: without its CA the attempt fails and waits (nothing sent in clear).
        let untrusted = try SMTPServer(url: Self.environment["MDP_TEST_SMTPS"]!)
        #expect(try await delivery(p, mail: untrusted).runOnce().postponed == 1)
        #expect(try sink.messages(about: mission).isEmpty)
        p.clock.advance(by: 60)
        let trusted = try SMTPServer(url: Self.environment["MDP_TEST_SMTPS"]!, caFile: Self.environment["MDP_TEST_SMTP_CA"])
        #expect(try await delivery(p, mail: trusted).runOnce().delivered == 1)
        let received = try sink.messages(about: mission)
        #expect(received.count == 1 && received.allSatisfy { $0.envelope.tls })
    }

    @Test func aPersonWhoTurnedRemindersOffStillGetsHandOffs() throws {
        let p = try Programme.make(ceilings: [1_000_000])
        let member = try #require(try p.database.account(email: "membre1@manufacture.fr"))
        try p.database.setReminders(accountID: member.id, on: false)
        let recipient = Recipient.laureate(id: p.laureates[0].id)
        #expect(try p.database.noticeAddresses(for: recipient, reminder: true).isEmpty)
        #expect(try p.database.noticeAddresses(for: recipient, reminder: false).map(\.email) == ["membre1@manufacture.fr"])
    }
}

extension Programme {
    /// A programme with one laureate (its framing note written) whose member requested a mission from the expert.
    static func withRequest(_ title: String) async throws -> (Programme, mission: String) {
        let p = try Programme.make(ceilings: [1_000_000])
        let mission = try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(p.laureates[0])
            return try await client.newMission(p, by: p.laureates[0], title: title)
        }
        return (p, mission)
    }
}

/// A port nothing listens on (bound, then closed).
func closedPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            _ = bind(descriptor, pointer, length)
            return getsockname(descriptor, pointer, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// What the test SMTP server received (scripts/smtp-sink.py): NNNN.eml and its envelope in NNNN.json.
struct MailSink {
    let folder: URL

    init(folder: String) throws { self.folder = URL(fileURLWithPath: folder) }

    /// The messages whose body names the mission (the server is shared by every test).
    func messages(about missionID: String) throws -> [ReceivedMail] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".eml") }.sorted()
        return try names.compactMap { name in
            let text = String(decoding: try Data(contentsOf: folder.appendingPathComponent(name)), as: UTF8.self)
            var mail = ReceivedMail(text: text)
            guard mail.plain.contains(missionID) else { return nil }
            let json = folder.appendingPathComponent(name.replacingOccurrences(of: ".eml", with: ".json"))
            mail.envelope = try JSONDecoder().decode(ReceivedMail.Envelope.self, from: Data(contentsOf: json))
            return mail
        }
    }
}

/// A received message, read back as a mail reader would (unfolded headers, encoded words, base64 parts).
struct ReceivedMail {
    struct Envelope: Decodable {
        var mailFrom = ""
        var rcptTos: [String] = []
        var tls = false
        var authenticated = false

        enum CodingKeys: String, CodingKey {
            case mailFrom = "mail_from", rcptTos = "rcpt_tos", tls, authenticated
        }
    }

    let text: String
    var envelope = Envelope()

    init(text: String) { self.text = text }

    var head: String { text.components(separatedBy: "\r\n\r\n").first ?? "" }
    var subject: String { Self.header("Subject", in: head) ?? "" }
    var messageID: String { Self.header("Message-ID", in: head) ?? "" }
    var plain: String { part("text/plain") }
    var html: String { part("text/html") }

    /// A header's value, unfolded, its encoded words decoded.
    static func header(_ name: String, in head: String) -> String? {
        let unfolded = head.replacingOccurrences(of: "\r\n ", with: " ")
        guard let line = unfolded.components(separatedBy: "\r\n").first(where: { $0.lowercased().hasPrefix(name.lowercased() + ":") })
        else {
            return nil
        }
        var value = String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
        while let start = value.range(of: "=?utf-8?B?"), let end = value.range(of: "?=", range: start.upperBound..<value.endIndex) {
            let decoded =
                Data(base64Encoded: String(value[start.upperBound..<end.lowerBound])).map { String(decoding: $0, as: UTF8.self) } ?? ""
            // Adjacent encoded words are one text: the space between them is not part of it.
            var replaceEnd = end.upperBound
            if value[replaceEnd...].hasPrefix(" =?utf-8?B?") { replaceEnd = value.index(after: replaceEnd) }
            value.replaceSubrange(start.lowerBound..<replaceEnd, with: decoded)
        }
        return value
    }

    /// The decoded body of the part of `type` (the whole body when the message is not multipart).
    func part(_ type: String) -> String {
        guard let start = text.range(of: "Content-Type: \(type); charset=utf-8") else {
            let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
            return Data(base64Encoded: body.replacingOccurrences(of: "\r\n", with: "")).map { String(decoding: $0, as: UTF8.self) } ?? body
        }
        let rest = text[start.upperBound...]
        guard let bodyStart = rest.range(of: "\r\n\r\n") else { return "" }
        let body = rest[bodyStart.upperBound...].prefix { $0 != "-" }
        return Data(base64Encoded: body.replacingOccurrences(of: "\r\n", with: "")).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}

/// Reminders of what waits too long (programme settings), once per wait, and each person's choice to stop them.
@Suite("Reminders")
struct ReminderTests {
    @Test func anUnansweredProposalIsRemindedOnceAfterFourteenDaysToWhoeverWantsReminders() async throws {
        let p = try Programme.make(ceilings: [1_000_000])
        let laureate = p.laureates[0]
        var mission = ""
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(laureate)
            mission = try await client.newMission(p, by: laureate, title: "Relance")
            _ = try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin)
            _ = try await client.step(mission, p.expert, proposalBody(totalBeforeVAT: 500_000), reader: p.admin)
            let programme = try await client.send(.get, "/v1/programme")
            #expect(
                programme.body["reminders"] as? [String: Int] == [
                    "proposal_unanswered_days": 14, "report_missing_days_after_end": 30, "review_missing_days_after_report": 30,
                ])
        }
        p.clock.advance(by: 13 * 86_400)
        #expect(try p.database.scheduleReminders() == 0)
        p.clock.advance(by: 86_400)
        #expect(try p.database.scheduleReminders() == 1)
        #expect(try p.database.scheduleReminders() == 0)
        let reminder = try #require(try p.database.waitingNotices().first { $0.kind == .proposalWaiting })
        #expect(reminder.recipient == .laureate(id: laureate.id) && reminder.subjectID == mission)

        // The member turned reminders off through the API: the reminder finds nobody to tell; a hand-off still goes.
        try await makeApplication(database: p.database).test(.router) { client in
            let off = try await client.send(.patch, "/v1/me", token: laureate.token, json: ["reminders": false])
            #expect(off.status == .ok && off.body["reminders"] as? Bool == false)
            #expect(try await client.send(.get, "/v1/me", token: laureate.token).body["reminders"] as? Bool == false)
            #expect(try await client.send(.get, "/v1/me", token: p.expert).body["reminders"] as? Bool == true)
            let bad = try await client.send(.patch, "/v1/me", token: laureate.token, json: ["reminders": "non"])
            #expect(bad.status == .badRequest)
            #expect(try await client.send(.patch, "/v1/me", json: ["reminders": false]).status == .unauthorized)
            let sync = try p.database.createAccount(email: "sync@ftl.fr", password: nil, role: .sync, displayName: "Sync")
            let syncToken = try p.database.createServiceToken(for: sync, name: "sync", days: 30).secret
            #expect(try await client.send(.patch, "/v1/me", token: syncToken, json: ["reminders": false]).status == .forbidden)
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("reminders-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let delivery = NoticeDelivery(
            database: p.database, mail: MailFolder(folder), sender: try MailAddress(email: "equipe@ftl.fr"),
            appURL: "https://mdp.example.fr")
        let report = try await delivery.runOnce()
        #expect(report.skipped == 1 && report.delivered == 3)  // the reminder; the request and the proposal (member, team)
        let subjects = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil).map {
            ReceivedMail(text: String(decoding: try Data(contentsOf: $0), as: UTF8.self)).subject
        }
        #expect(!subjects.contains { $0.hasPrefix("Rappel") } && subjects.count == 3)
    }

    @Test func aWaitLongerThanTheOutboxMemoryIsStillRemindedOnce() async throws {
        let p = try Programme.make(ceilings: [1_000_000])
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(p.laureates[0])
            let mission = try await client.newMission(p, by: p.laureates[0], title: "Longue attente")
            _ = try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin)
            _ = try await client.step(mission, p.expert, proposalBody(totalBeforeVAT: 500_000), reader: p.admin)
        }
        p.clock.advance(by: 14 * 86_400)
        #expect(try p.database.scheduleReminders() == 1)
        _ = try await NoticeDelivery(
            database: p.database, mail: nil, sender: try MailAddress(email: "equipe@ftl.fr"), appURL: "https://mdp.example.fr"
        ).runOnce()
        // A month on, settled notices are forgotten, but the proposal still waits: no second reminder for this wait.
        p.clock.advance(by: 31 * 86_400)
        #expect(try p.database.purgeSettledNotifications() > 0)
        #expect(try p.database.scheduleReminders() == 0)
    }

    @Test func aLateReportIsRemindedToTheExpertWithAWayToStopReminders() async throws {
        let p = try Programme.make(ceilings: [1_000_000])
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(laureate)
            let mission = try await client.newMission(p, by: laureate, title: "Rapport en retard")
            _ = try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin)
            _ = try await client.step(mission, p.expert, proposalBody(totalBeforeVAT: 500_000), reader: p.admin)
            #expect(try await client.step(mission, laureate.token, ["action": "accept"], reader: p.admin).status == .ok)
        }
        // Far past the planned end (the proposal's schedule), the expert is reminded once.
        p.clock.advance(by: 400 * 86_400)
        #expect(try p.database.scheduleReminders() == 1)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("reminders-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let delivery = NoticeDelivery(
            database: p.database, mail: MailFolder(folder), sender: try MailAddress(email: "equipe@ftl.fr"),
            appURL: "https://mdp.example.fr")
        _ = try await delivery.runOnce()
        let mails = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil).map {
            ReceivedMail(text: String(decoding: try Data(contentsOf: $0), as: UTF8.self))
        }
        let reminder = try #require(mails.first { $0.subject.hasPrefix("Rappel") })
        #expect(reminder.subject == "Rappel : le rapport de Rapport en retard est attendu")
        #expect(reminder.plain.contains("https://mdp.example.fr/compte") && reminder.html.contains("Désactivez-les"))
    }
}

/// What a pooled mission's e-mails say, and to whom (found by an outside tester).
@Suite("Pooled missions' e-mails")
struct PooledMailTests {
    func mails(_ p: Programme) async throws -> [(to: String, mail: ReceivedMail)] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pooled-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let delivery = NoticeDelivery(
            database: p.database, mail: MailFolder(folder), sender: try MailAddress(email: "equipe@ftl.fr"),
            appURL: "https://mdp.example.fr")
        _ = try await delivery.runOnce()
        guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil).sorted { $0.path < $1.path }.map {
            let mail = ReceivedMail(text: String(decoding: try Data(contentsOf: $0), as: UTF8.self))
            return (ReceivedMail.header("To", in: mail.head) ?? "", mail)
        }
    }

    @Test func theExpertLearnsNoInviteeAndAPartialValidationEngagesNothing() async throws {
        let p = try Programme.make(ceilings: [1_000_000, 1_000_000])
        let (first, second) = (p.laureates[0], p.laureates[1])
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(first)
            try await client.note(second)
            let created = try await client.send(
                .post, "/v1/missions", token: first.token,
                json: ["title": "Mutualisée", "expert_id": p.expertID, "laureate_ids": [first.id, second.id]])
            let mission = try #require(created.body["id"] as? String)
            let request = try #require(try await mails(p).first { $0.to.contains("claire@conseil.fr") }?.mail)
            #expect(request.plain.contains("Manufacture 1 vous sollicite") && !request.plain.contains("Manufacture 2"))
            #expect(request.plain.contains("D'autres manufactures sont invitées"))
            try await client.join(mission, [second], reader: p.admin)
            _ = try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin)
            _ = try await client.step(mission, p.expert, proposalBody(totalBeforeVAT: 600_000), reader: p.admin)
            _ = try await mails(p)
            // One of two validations: nobody is told the mission is engaged.
            #expect(try await client.step(mission, first.token, ["action": "accept"], reader: p.admin).status == .ok)
            #expect(try await mails(p).isEmpty)
            #expect(try await client.step(mission, second.token, ["action": "accept"], reader: p.admin).status == .ok)
            let accepted = try await mails(p)
            #expect(accepted.count == 2 && accepted.allSatisfy { $0.mail.subject.hasPrefix("Proposition acceptée") })
            #expect(accepted.contains { $0.mail.plain.contains("Manufacture 1, Manufacture 2 ont validé") })
        }
    }
}
