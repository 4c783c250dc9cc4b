import Domain
import Testing

@Suite("Reference data")
struct ReferenceDataTests {
    @Test func theProgrammeHasTwelveThemesAndThirtySevenSubthemesInCodeOrder() {
        #expect(Taxonomy.themes.map(\.code) == (1...12).map(String.init))
        #expect(Taxonomy.themes.flatMap(\.subthemes).count == 37)
        let perTheme = Taxonomy.themes.map(\.subthemes.count)
        #expect(perTheme == [3, 2, 2, 6, 2, 2, 3, 3, 4, 3, 4, 3])
        for theme in Taxonomy.themes {
            for (index, subtheme) in theme.subthemes.enumerated() {
                #expect(subtheme.code == "\(theme.code).\(index + 1)")
                #expect(subtheme.themeCode == theme.code)
                #expect(!subtheme.labelEN.isEmpty)
            }
        }
    }

    @Test func labelsAreVerbatimFromTheProgrammeTextInSentenceCase() throws {
        #expect(Taxonomy.theme("1")?.labelFR == "Stratégie foncière")
        #expect(Taxonomy.theme("12")?.labelFR == "Conseil technique autour de procédés de conception et de production")
        let first = try #require(Taxonomy.subtheme("1.1"))
        #expect(first.labelFR == "Accompagnement au montage d'une opération immobilière")
        #expect(
            first.detailsFR
                == "méthode, bilan d'opération, plan de financement et prévisionnel, analyse de risque, argumentaire et tableau financier pour les investisseurs"
        )
        #expect(Taxonomy.subtheme("11.2")?.detailsFR == "bilan carbone")
        #expect(Taxonomy.subtheme("2.1")?.detailsFR == nil)
        #expect(Taxonomy.subtheme("12.2")?.labelFR == "Accompagnement technique autour d'une ou plusieurs filière.s")
        for theme in Taxonomy.themes {
            let rest = theme.labelFR.dropFirst()
            #expect(theme.labelFR.first?.isUppercase == true)
            #expect(rest != rest.uppercased(), "\(theme.code) is not in sentence case")
        }
        #expect(Taxonomy.subtheme("13.1") == nil)
        #expect(Taxonomy.subtheme("1.4") == nil)
    }

    @Test func franceHasEighteenRegionsAndOneHundredAndOneDepartements() {
        #expect(Territories.regions.count == 18)
        #expect(Territories.departments.count == 101)
        #expect(Set(Territories.regions.map(\.code)).count == 18)
        #expect(Set(Territories.departments.map(\.code)).count == 101)
        for department in Territories.departments {
            #expect(Territories.region(department.regionCode) != nil, "\(department.code) points to no région")
        }
        let counts = Dictionary(grouping: Territories.departments, by: \.regionCode).mapValues(\.count)
        #expect(counts["84"] == 12)  // Auvergne-Rhône-Alpes
        #expect(counts["76"] == 13)  // Occitanie
        #expect(counts["11"] == 8)  // Île-de-France
        #expect(counts["94"] == 2)  // Corse
        #expect(counts["06"] == 1)  // Mayotte
        #expect(Territories.department("2A")?.name == "Corse-du-Sud")
        #expect(Territories.department("976")?.regionCode == "06")
        #expect(Territories.department("20") == nil)
        #expect(Territories.departments(inRegion: "53").map(\.code) == ["22", "29", "35", "56"])
    }

    @Test func coverageOfADepartementComesFromItselfItsRegionOrNational() {
        #expect(Coverage(departmentCodes: ["69"]).covers(departmentCode: "69"))
        #expect(Coverage(regionCodes: ["84"]).covers(departmentCode: "69"))
        #expect(Coverage(national: true).covers(departmentCode: "971"))
        #expect(!Coverage(regionCodes: ["84"]).covers(departmentCode: "75"))
        #expect(!Coverage(remote: true).covers(departmentCode: "75"))
        #expect(Coverage(departmentCodes: ["2B"]).covers(regionCode: "94"))
        #expect(!Coverage(departmentCodes: ["2B"]).covers(regionCode: "93"))
    }

    @Test func theProgrammeSettingsAreAValueWithTheRealProgrammeAsDefault() {
        let settings = ProgrammeSettings.manufacturesDeProximite
        #expect(settings.window.start == CalendarDate(2023, 2, 1))
        #expect(settings.window.end == CalendarDate(2024, 12, 31))
        #expect(settings.supportCeilings == [1_000_000, 1_500_000, 2_000_000])
        #expect(settings.cohorts.count == 6)
        #expect(settings.allowsCeiling(1_500_000))
        #expect(!settings.allowsCeiling(1_200_000))
        var other = settings
        other.supportCeilings = [500_000]
        #expect(other.allowsCeiling(500_000) && !other.allowsCeiling(1_000_000))
    }

    @Test func calendarDatesParseStrictlyAndKnowLeapYears() {
        #expect(CalendarDate(iso: "2024-02-29") == CalendarDate(2024, 2, 29))
        #expect(CalendarDate(iso: "2023-02-29") == nil)
        #expect(CalendarDate(iso: "2023-2-01") == nil)
        #expect(CalendarDate(iso: "2023-13-01") == nil)
        #expect(CalendarDate(iso: "２０２３-01-01") == nil)
        #expect(CalendarDate(2023, 2, 1)?.iso == "2023-02-01")
        #expect(CalendarDate(2023, 12, 31)! < CalendarDate(2024, 1, 1)!)
    }
}
