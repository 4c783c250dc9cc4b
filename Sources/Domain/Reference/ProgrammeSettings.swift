/// The settings of one support programme: a value injected where rules need it, so another programme can reuse
/// the code with other values.
public struct ProgrammeSettings: Sendable, Hashable, Codable {
    public var name: String
    /// The support window, both days included: quotes are accepted and missions planned only inside it.
    public var window: DateInterval
    /// The ceilings a laureate's support may be set to, in euro cents.
    public var supportCeilings: [Int]
    public var currency: String
    public var cohorts: [Cohort]
    /// When whoever must act is reminded of what waits too long.
    public var reminders: ReminderSettings

    public init(
        name: String, window: DateInterval, supportCeilings: [Int], currency: String = "EUR", cohorts: [Cohort],
        reminders: ReminderSettings = ReminderSettings()
    ) {
        self.reminders = reminders
        self.name = name
        self.window = window
        self.supportCeilings = supportCeilings
        self.currency = currency
        self.cohorts = cohorts
    }

    /// The Manufactures de proximité programme: Feb 2023 – Dec 2024, ceilings of 10, 15 or 20 k€, 6 cohorts.
    public static let manufacturesDeProximite = ProgrammeSettings(
        name: "Manufactures de proximité",
        window: DateInterval(start: CalendarDate(2023, 2, 1)!, end: CalendarDate(2024, 12, 31)!)!,
        supportCeilings: [1_000_000, 1_500_000, 2_000_000],
        cohorts: (1...6).map { Cohort(number: $0, name: "Promotion \($0)") }
    )

    /// Whether `cents` is one of the ceilings this programme allows.
    public func allowsCeiling(_ cents: Int) -> Bool { supportCeilings.contains(cents) }
}

/// An incubation cohort ("promotion") of laureates.
public struct Cohort: Sendable, Hashable, Codable {
    public let number: Int
    public let name: String

    public init(number: Int, name: String) {
        self.number = number
        self.name = name
    }
}
