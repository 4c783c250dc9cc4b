import Domain
import Foundation
import Testing

/// Reports as French spreadsheets read them: the rules of each cell, read as tables.
@Suite("Spreadsheets for the team")
struct SpreadsheetTests {
    @Test(arguments: [
        (0, "0,00"), (5, "0,05"), (-5, "-0,05"), (123_456, "1234,56"), (100, "1,00"), (-100_000, "-1000,00"),
        (Int.max, "92233720368547758,07"), (Int.min, "-92233720368547758,08"),
    ])
    func amountsAreEurosWithADecimalCommaAndNeverTrap(_ cents: Int, _ text: String) {
        #expect(FrenchCSV.line([.amount(cents)]) == text + "\r\n")
    }

    @Test(arguments: [
        ("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\""), ("+33 6 12", "'+33 6 12"), ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"), ("Atelier; bois", "\"Atelier; bois\""), ("ligne\nsuivante", "\"ligne\nsuivante\""), ("Léa", "Léa"),
        ("", ""), ("a=b", "a=b"),
    ])
    func textIsQuotedWhenItMustAndNeverReadAsAFormula(_ text: String, _ field: String) {
        #expect(FrenchCSV.line([.text(text)]) == field + "\r\n")
    }

    @Test func otherCellsAndTheHeader() throws {
        let day = try #require(CalendarDate(2024, 3, 5))
        // 2024-03-15 08:00 UTC is 09:00 in Paris (winter), 2024-07-01 08:00 UTC is 10:00 (summer).
        let winter = Date(timeIntervalSince1970: 1_710_489_600)
        let summer = Date(timeIntervalSince1970: 1_719_820_800)
        #expect(
            FrenchCSV.line([
                .date(day), .moment(winter), .moment(summer), .flag(true), .flag(false), .integer(-3), .decimal(hundredths: 425), .empty,
            ])
                == "05/03/2024;15/03/2024 09:00:00;01/07/2024 10:00:00;oui;non;-3;4,25;\r\n")
        #expect(Spreadsheet.parisDay(Date(timeIntervalSince1970: 1_710_543_600)) == CalendarDate(2024, 3, 16))  // 23:00 UTC
        #expect(FrenchCSV.byteOrderMark == [0xEF, 0xBB, 0xBF])
        for dataset in ReportDataset.allCases {
            #expect(!dataset.headers.isEmpty && Set(dataset.headers).count == dataset.headers.count)
        }
    }

    @Test func openDocumentCellsAreTypedAndTextIsEscaped() {
        let row = OpenDocumentSheet.row([.amount(123_456), .text("<b>Léa & Co</b>\u{1}"), .date(CalendarDate(2024, 3, 5)!), .integer(7)])
        #expect(row.contains("office:value-type=\"currency\" office:currency=\"EUR\" office:value=\"1234.56\""))
        #expect(row.contains("<text:p>&lt;b&gt;Léa &amp; Co&lt;/b&gt;</text:p>"))
        #expect(row.contains("office:date-value=\"2024-03-05\"") && row.contains("office:value=\"7\""))
        #expect(!row.contains("\u{1}"))
    }
}
