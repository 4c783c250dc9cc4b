import Domain
import Foundation
import Storage

/// The French e-mail of each kind of notice: a subject that says what to do, a plain text and an HTML body with the
/// link to the front end (`APP_URL`). One template per kind; the recipient's role picks the wording where a kind goes
/// to several (a proposal: the laureate decides, the team follows).
public enum NoticeTemplates {
    public struct Rendered: Sendable, Hashable {
        public let subject: String
        public let paragraphs: [String]
        public let action: String
        public let link: String
    }

    /// What `kind` says to `recipient` about `subject`; `appURL` is the front end's base URL.
    public static func render(
        _ kind: NoticeKind, subject: NoticeSubject, subjectID: String, recipient: Recipient, appURL: String,
        settings: ReminderSettings = ReminderSettings()
    ) -> Rendered {
        let base = appURL.hasSuffix("/") ? String(appURL.dropLast()) : appURL
        let mission = "« \(subject.title) »" + (subject.reference.map { " (\($0))" } ?? "")
        let laureates = subject.laureateNames.isEmpty ? "la manufacture" : subject.laureateNames.joined(separator: ", ")
        let expert = subject.expertName.isEmpty ? "l'expert" : subject.expertName
        let many = subject.laureateNames.count > 1
        func agreeing(_ singular: String, _ plural: String) -> String { many ? plural : singular }
        let missionLink = "\(base)/missions/\(subjectID)"
        let isTeam = recipient == .team
        func make(_ subjectLine: String, _ paragraphs: [String], _ action: String, _ link: String = missionLink) -> Rendered {
            Rendered(subject: subjectLine, paragraphs: paragraphs, action: action, link: link)
        }
        switch kind {
        case .missionRequested:
            return make(
                "Nouvelle demande de mission : \(subject.title) — à étudier",
                [
                    "\(laureates) \(agreeing("vous sollicite", "vous sollicitent")) pour la mission \(mission).",
                    subject.invitedCount > 0
                        ? "D'autres manufactures sont invitées à la partager : vous pourrez la cadrer quand elles auront répondu, "
                            + "ou la décliner dès maintenant."
                        : "Étudiez la demande, puis cadrez-la avec \(agreeing("la manufacture", "les manufactures")) ou déclinez-la.",
                ],
                "Voir la demande")
        case .invitedToPool:
            return make(
                "Invitation à une mission mutualisée : \(subject.title) — rejoignez-la ou déclinez",
                [
                    "Vous êtes invités à partager la mission \(mission), demandée à \(expert) par \(laureates).",
                    "Rejoignez-la pour prendre part au diagnostic et au devis, ou déclinez l'invitation.",
                ],
                "Répondre à l'invitation")
        case .proposalReceived:
            return isTeam
                ? make(
                    "Proposition envoyée : \(subject.title) — à suivre",
                    [
                        "\(expert) a envoyé son diagnostic et son devis pour la mission \(mission) (\(agreeing("manufacture", "manufactures")) : \(laureates))."
                    ],
                    "Voir la proposition")
                : make(
                    "Proposition reçue : \(subject.title) — validez-la ou renvoyez-la",
                    [
                        "\(expert) vous a envoyé son diagnostic et son devis pour la mission \(mission).",
                        "Validez la proposition pour engager la mission, ou renvoyez-la avec vos remarques.",
                    ],
                    "Voir la proposition")
        case .proposalSentBack:
            return make(
                "Proposition renvoyée : \(subject.title) — lisez les remarques et corrigez-la",
                ["Votre proposition pour la mission \(mission) vous est renvoyée."]
                    + (subject.comment.map { ["Les remarques : « \($0) »"] } ?? [])
                    + ["Corrigez le diagnostic ou le devis, puis envoyez-le à nouveau."],
                "Corriger la proposition")
        case .proposalAccepted:
            return isTeam
                ? make(
                    "Proposition acceptée : \(subject.title) — mission engagée",
                    [
                        "\(laureates) \(agreeing("a validé", "ont validé")) la proposition de \(expert) pour la mission \(mission) : "
                            + "le budget est engagé."
                    ],
                    "Voir la mission")
                : make(
                    "Proposition acceptée : \(subject.title) — la mission peut commencer",
                    [
                        "\(laureates) \(agreeing("a validé", "ont validé")) votre proposition pour la mission \(mission).",
                        "Vous pouvez commencer ; déposez votre rapport à la fin de la mission.",
                    ],
                    "Voir la mission")
        case .reportDelivered:
            return isTeam
                ? make(
                    "Rapport déposé : \(subject.title) — à suivre",
                    ["\(expert) a déposé le rapport de la mission \(mission)."], "Voir le rapport")
                : make(
                    "Rapport reçu : \(subject.title) — donnez votre avis",
                    [
                        "\(expert) a déposé le rapport de la mission \(mission).",
                        "Lisez-le et donnez votre avis : il clôt la mission.",
                    ],
                    "Donner mon avis")
        case .reviewReceived:
            return make(
                "Avis reçu : \(subject.title)",
                ["Un avis a été donné sur la mission \(mission) menée par \(expert) pour \(laureates)."], "Voir l'avis")
        case .laureateLeft:
            return make(
                "Départ d'une manufacture : \(subject.title)",
                [
                    "Une manufacture a quitté la mission mutualisée \(mission).",
                    "Participent désormais : \(laureates)."
                        + (subject.state == "proposed" ? " Vérifiez le partage du devis entre elles." : ""),
                ],
                "Voir la mission")
        case .missionEnded:
            let (headline, how) =
                switch subject.state {
                case "declined": ("Demande déclinée", "a été déclinée")
                case "cancelled": ("Mission annulée", "a été annulée")
                case "terminated": ("Mission arrêtée", "a été arrêtée")
                default: ("Mission terminée", "est terminée")
                }
            return make(
                "\(headline) : \(subject.title)",
                ["La mission \(mission) \(how)."] + (subject.comment.map { ["Motif : « \($0) »"] } ?? []), "Voir la mission")
        case .cardSubmitted:
            return make(
                "Fiche experte soumise : \(subject.title) — à relire",
                [
                    "\(subject.title) a soumis sa fiche pour l'annuaire des experts.",
                    "Relisez-la, puis publiez-la ou demandez des modifications.",
                ],
                "Relire la fiche", "\(base)/experts/\(subjectID)")
        case .proposalWaiting:
            return make(
                "Rappel : la proposition pour \(subject.title) attend votre réponse",
                [
                    "La proposition de \(expert) pour la mission \(mission) attend votre réponse depuis au moins "
                        + "\(settings.proposalUnansweredDays) jours.", "Validez-la ou renvoyez-la avec vos remarques.",
                ],
                "Répondre")
        case .reportOverdue:
            return make(
                "Rappel : le rapport de \(subject.title) est attendu",
                [
                    "La mission \(mission) devait finir il y a au moins \(settings.reportMissingDaysAfterEnd) jours "
                        + "et son rapport n'est pas encore déposé.",
                    "Déposez-le pour que \(laureates) \(agreeing("puisse", "puissent")) donner son avis.",
                ],
                "Déposer le rapport")
        case .reviewOverdue:
            return make(
                "Rappel : votre avis sur \(subject.title) est attendu",
                [
                    "Le rapport de la mission \(mission) est déposé depuis au moins \(settings.reviewMissingDaysAfterReport) jours.",
                    "Donnez votre avis pour clore la mission.",
                ],
                "Donner mon avis")
        }
    }

    /// The plain text body: greeting, paragraphs, the link, and for a reminder how to stop them.
    public static func text(_ rendered: Rendered, to name: String, reminder: Bool, appURL: String) -> String {
        var lines = ["Bonjour\(name.isEmpty ? "" : " \(name)"),", ""]
        for paragraph in rendered.paragraphs { lines += [paragraph, ""] }
        lines += ["\(rendered.action) : \(rendered.link)", "", "— Manufactures de proximité, France Tiers-Lieux"]
        if reminder { lines += ["", "Vous ne souhaitez plus recevoir de rappels ? Désactivez-les dans votre compte : \(account(appURL))"] }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// The HTML body: the same words, escaped.
    public static func html(_ rendered: Rendered, to name: String, reminder: Bool, appURL: String) -> String {
        var body = "<p>Bonjour\(name.isEmpty ? "" : " \(escape(name))"),</p>\n"
        for paragraph in rendered.paragraphs { body += "<p>\(escape(paragraph))</p>\n" }
        body += "<p><a href=\"\(escape(rendered.link))\">\(escape(rendered.action))</a></p>\n"
        body += "<p style=\"color:#555\">— Manufactures de proximité, France Tiers-Lieux</p>\n"
        if reminder {
            body +=
                "<p style=\"color:#555;font-size:small\">Vous ne souhaitez plus recevoir de rappels ? "
                + "<a href=\"\(escape(account(appURL)))\">Désactivez-les dans votre compte</a>.</p>\n"
        }
        return "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>\(escape(rendered.subject))</title></head>"
            + "<body>\n\(body)</body></html>\n"
    }

    static func account(_ appURL: String) -> String { (appURL.hasSuffix("/") ? String(appURL.dropLast()) : appURL) + "/compte" }

    static func escape(_ text: String) -> String { text.htmlEscaped }
}
