/// A person's erasure (RGPD article 17): what the programme keeps, pseudonymised, and when it must wait.
public enum Erasure {
    /// How an erased person is named where the programme's records still show them.
    public static func pseudonym(role: Role, number: Int) -> String {
        role == .expert ? "Expert supprimé n°\(number)" : "Membre supprimé n°\(number)"
    }

    /// The address an erased account keeps: unique, and on a domain that never receives mail (RFC 2606).
    public static func address(number: Int) -> String { "supprime-\(number)@efface.invalid" }

    /// Whether a name a person gives would read as an erased person's pseudonym ("Expert Supprime 4", "membre  supprimé"),
    /// whatever its case, accents and spacing: the programme's records must not show a living person as erased, nor an
    /// erased one as someone else.
    public static func imitatesPseudonym(_ name: String) -> Bool {
        // Letters only, folded: spaces, punctuation and invisible characters (soft hyphen, zero-width space, direction
        // marks) cannot hide the words.
        let letters = String(
            String.UnicodeScalarView(
                name.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil).unicodeScalars
                    .filter { $0.properties.isAlphabetic }))
        return letters.contains("expertsupprim") || letters.contains("membresupprim")
    }

    /// The refusal of a name that imitates a pseudonym, at `pointer`.
    public static func reservedNameError(_ name: String, at pointer: String) -> FieldError? {
        imitatesPseudonym(name)
            ? FieldError(pointer, "reserved_name", "This name is how the programme shows erased people: choose another.") : nil
    }

    /// Whether an address is one `address(number:)` wrote: nothing is ever sent to it.
    public static func isErasedAddress(_ email: String) -> Bool { email.hasSuffix("@efface.invalid") }

    /// What an erased expert's card keeps: the expertise a mission was bought for (subthemes, where it works) and the
    /// day the declaration was signed, under the pseudonym; names, organisation, contact, texts and sectors go.
    public static func pseudonymised(_ card: ExpertCardContent, number: Int) -> ExpertCardContent {
        var kept = ExpertCardContent(
            firstName: "Expert supprimé", lastName: "n°\(number)", contact: ContactDetails(email: address(number: number)))
        kept.subthemeCodes = card.subthemeCodes
        kept.coverage = card.coverage
        kept.declaration = card.declaration.map {
            NoInterestDeclaration(signatory: pseudonym(role: .expert, number: number), signedOn: $0.signedOn)
        }
        kept.publication = PublicationConsent(email: false, phone: false, website: false)
        return kept
    }

    /// The missions that keep an expert from being erased now: those still running (requested to reported). The
    /// programme must be able to reach the person it pays; closed, declined, cancelled and terminated ones are records.
    public static func blockingMissions(_ missions: [(ref: String, state: MissionState)]) -> [String] {
        missions.filter { !$0.state.isFinal }.map(\.ref).sorted()
    }
}

/// How long the programme keeps what it does not need as a record (storage limitation, RGPD article 5(1)(e)), in days.
/// Missions, budgets, framing notes, documents and the audit chain are records of public money and are not purged.
public struct RetentionPolicy: Sendable, Hashable {
    /// Failed logins (address, e-mail, time): throttling needs 15 minutes, investigating an attack a few weeks.
    public var loginFailureDays = 30
    /// Sign-up attempts by network address.
    public var signupAttemptDays = 30
    /// Tokens after they expired or were revoked (their name and last use).
    public var tokenDays = 90
    /// E-mail notices after they were settled (a reminder stays while its mission still waits: it is the wait's key).
    public var noticeDays = 30
    /// Webhook deliveries after they were delivered (their payloads name people); failed ones at least 90 days, to
    /// be replayed.
    public var webhookDeliveryDays = 30
    /// Expert cards never submitted and untouched this long: their person is erased as if they had asked.
    public var draftCardDays = 365

    public static let allowedDays = 1...3650

    public init() {}
}
