import Domain

/// Domain values as the generated schemas of openapi.yaml.
extension Components.Schemas.Taxonomy {
    init(_ themes: [Theme]) {
        self.init(
            themes: themes.map { theme in
                .init(
                    code: theme.code, labelFr: theme.labelFR, labelEn: theme.labelEN,
                    subthemes: theme.subthemes.map {
                        .init(code: $0.code, themeCode: $0.themeCode, labelFr: $0.labelFR, detailsFr: $0.detailsFR, labelEn: $0.labelEN)
                    })
            })
    }
}

extension Components.Schemas.Territories {
    init(regions: [Region], departments: [Department]) {
        let byRegion = Dictionary(grouping: departments, by: \.regionCode)
        self.init(
            regions: regions.map { region in
                .init(
                    code: region.code, name: region.name,
                    departments: (byRegion[region.code] ?? []).map { .init(code: $0.code, name: $0.name, regionCode: $0.regionCode) })
            },
            territoryTypes: TerritoryType.allCases.map { type in
                let code: Components.Schemas.TerritoryType.CodePayload =
                    switch type {
                    case .rural: .rural
                    case .smallOrMediumTown: .smallOrMediumTown
                    case .qpv: .qpv
                    }
                return .init(code: code, labelFr: type.labelFR, labelEn: type.labelEN)
            })
    }
}

extension Components.Schemas.Programme {
    init(_ settings: ProgrammeSettings) {
        self.init(
            name: settings.name,
            window: .init(start: settings.window.start.iso, end: settings.window.end.iso),
            supportCeilings: settings.supportCeilings.map(Int64.init),
            currency: .eur,
            cohorts: settings.cohorts.map { .init(number: $0.number, name: $0.name) },
            reminders: .init(
                proposalUnansweredDays: settings.reminders.proposalUnansweredDays,
                reportMissingDaysAfterEnd: settings.reminders.reportMissingDaysAfterEnd,
                reviewMissingDaysAfterReport: settings.reminders.reviewMissingDaysAfterReport))
    }
}
