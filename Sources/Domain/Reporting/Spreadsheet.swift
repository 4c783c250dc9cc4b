import Foundation

/// One value of a report, typed so that each format writes it as a spreadsheet expects (a number stays a number).
public enum ReportCell: Sendable, Hashable {
    case text(String)
    case integer(Int)
    /// An amount in euro cents.
    case amount(Int)
    /// A number given in hundredths (a mean rating: 425 is 4,25).
    case decimal(hundredths: Int)
    case date(CalendarDate)
    /// A moment, written in Paris time (the programme's).
    case moment(Date)
    case flag(Bool)
    case empty
}

/// The days a report covers, both included, in Paris time.
public struct ReportPeriod: Sendable, Hashable {
    public let since: CalendarDate?
    public let until: CalendarDate?

    public init(since: CalendarDate?, until: CalendarDate?) {
        self.since = since
        self.until = until
    }

    /// The period `since` and `until` name (YYYY-MM-DD, both optional), or the errors of each, pointed at by name.
    public static func parse(since: String?, until: String?) -> (period: ReportPeriod, errors: [FieldError]) {
        var errors: [FieldError] = []
        func day(_ text: String?, _ name: String) -> CalendarDate? {
            guard let text else { return nil }
            guard let day = CalendarDate(iso: text) else {
                errors.append(FieldError("/\(name)", "invalid_date", "A day is written YYYY-MM-DD."))
                return nil
            }
            return day
        }
        let period = ReportPeriod(since: day(since, "since"), until: day(until, "until"))
        if let first = period.since, let last = period.until, last < first {
            errors.append(FieldError("/until", "before_since", "The last day comes before the first."))
        }
        return (period, errors)
    }

    /// The first moment of `since` and the first moment after `until`, in Paris.
    public var moments: (start: Date?, end: Date?) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Paris") ?? .gmt
        func start(of day: CalendarDate) -> Date? {
            calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day))
        }
        return (since.flatMap(start), until.flatMap(start).flatMap { calendar.date(byAdding: .day, value: 1, to: $0) })
    }

    public func contains(_ day: CalendarDate?) -> Bool {
        guard let day else { return since == nil && until == nil }
        return (since.map { $0 <= day } ?? true) && (until.map { day <= $0 } ?? true)
    }
}

/// The reports the programme team exports, with their French column headers.
public enum ReportDataset: String, Sendable, Hashable, CaseIterable {
    case missions, budgets, directory, reviews, events

    /// The file name's stem and the sheet's name.
    public var title: String {
        switch self {
        case .missions: "missions"
        case .budgets: "budgets"
        case .directory: "annuaire"
        case .reviews: "satisfaction"
        case .events: "evenements"
        }
    }

    public var headers: [String] {
        switch self {
        case .missions:
            [
                "Référence", "Titre", "État", "Demandée le", "Acceptée le", "Évaluée le", "Thématiques", "Sous-thématiques", "Expert",
                "Organisation", "Lauréat", "SIRET du lauréat", "Département", "Région", "Mutualisée", "Participation", "Montant HT (€)",
                "TVA (€)",
                "Montant TTC (€)", "Part du lauréat (€)",
            ]
        case .budgets:
            [
                "Lauréat", "SIRET", "Commune", "Département", "Région", "Cohorte", "Plafond (€)", "Engagé (€)", "Réservé (€)",
                "Consommé (€)", "Restant (€)", "Missions",
            ]
        case .directory:
            [
                "Nom", "Prénom", "Organisation", "Thématiques", "Sous-thématiques", "Régions", "Départements", "Toute la France",
                "À distance", "Secteurs", "Présentation", "Expériences", "Courriel", "Téléphone", "Site web", "Publiée le",
            ]
        case .reviews:
            [
                "Référence", "Titre", "Expert", "Lauréat", "Évaluée le", "Expertise", "Écoute", "Livrables", "Délais", "Utilité",
                "Moyenne", "Recommanderait", "Commentaire",
            ]
        case .events:
            ["N°", "Date et heure (Paris)", "Action", "Auteur", "Rôle", "Objet", "Identifiant de l'objet"]
        }
    }
}

extension MissionState {
    /// As the programme team says it, for reports.
    public var labelFR: String {
        switch self {
        case .requested: "demandée"
        case .scoping: "en cadrage"
        case .proposed: "proposée"
        case .accepted: "acceptée"
        case .reported: "rapport remis"
        case .closed: "clôturée"
        case .declined: "déclinée"
        case .cancelled: "annulée"
        case .terminated: "interrompue"
        }
    }
}

extension ReportDataset {
    /// Between the items of a list in one cell: labels may hold commas, never this.
    public static let listSeparator = " | "

    /// How a laureate takes part in a mission, for the missions report: the first participant asked for it, the
    /// others were invited and joined, or not yet.
    public static func participationFR(position: Int, joined: Bool) -> String {
        position == 0 ? "demandeur" : joined ? "a rejoint" : "invité"
    }
}

extension Role {
    /// As the programme says it, for reports.
    public var labelFR: String {
        switch self {
        case .admin: "équipe du programme"
        case .expert: "expert"
        case .laureate: "lauréat"
        case .sync: "synchronisation"
        }
    }
}

/// CSV as French spreadsheets open it by a double click: UTF-8 with a byte-order mark, `;` between fields, CRLF
/// lines, amounts in euros with a decimal comma, dates as DD/MM/YYYY.
public enum FrenchCSV {
    public static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    public static func line(_ cells: [ReportCell]) -> String {
        cells.map(field).joined(separator: ";") + "\r\n"
    }

    public static func header(_ names: [String]) -> String { line(names.map(ReportCell.text)) }

    static func field(_ cell: ReportCell) -> String {
        switch cell {
        case .text(let text): quoted(Spreadsheet.defused(text))
        case .integer(let value): String(value)
        case .amount(let cents): Spreadsheet.euros(cents, decimalSeparator: ",")
        case .decimal(let hundredths): Spreadsheet.euros(hundredths, decimalSeparator: ",")
        case .date(let date): String(format: "%02d/%02d/%04d", date.day, date.month, date.year)
        case .moment(let moment): Spreadsheet.parisTime(moment).french
        case .flag(let value): value ? "oui" : "non"
        case .empty: ""
        }
    }

    /// Quoted when it holds a separator, a quote or a line break; quotes doubled.
    static func quoted(_ text: String) -> String {
        guard text.contains(where: { $0 == ";" || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "," }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// What both formats share.
public enum Spreadsheet {
    /// Text a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, a tab or a carriage return first) gets a leading
    /// apostrophe: a name typed by anyone must never run as a formula on the team's machine.
    public static func defused(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return text }
        return "'" + text
    }

    /// Cents as euros with two decimals: 123456 → "1234,56", -5 → "-0,05". Never traps (`Int.min` included).
    public static func euros(_ cents: Int, decimalSeparator: String) -> String {
        let magnitude = cents.magnitude
        let units = magnitude / 100
        let hundredths = magnitude % 100
        return (cents < 0 ? "-" : "") + String(units) + decimalSeparator + (hundredths < 10 ? "0" : "") + String(hundredths)
    }

    /// The day a moment falls on in Paris.
    public static func parisDay(_ moment: Date) -> CalendarDate {
        let iso = parisTime(moment).iso
        return CalendarDate(iso: String(iso.prefix(10))) ?? .earliest
    }

    /// A moment in Paris time, as ISO (for ODS) and as a French day and time (for CSV).
    public static func parisTime(_ moment: Date) -> (iso: String, french: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Paris") ?? .gmt
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: moment)
        let (year, month, day) = (parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1)
        let (hour, minute, second) = (parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
        return (
            String(format: "%04d-%02d-%02dT%02d:%02d:%02d", year, month, day, hour, minute, second),
            String(format: "%02d/%02d/%04d %02d:%02d:%02d", day, month, year, hour, minute, second)
        )
    }
}

/// The rows of an OpenDocument spreadsheet's `content.xml`: typed cells, amounts as euro currency, dates as dates.
public enum OpenDocumentSheet {
    public static func prologue(sheet: String, headers: [String]) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" \
        xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" \
        xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" \
        xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" office:version="1.3">
        <office:automatic-styles>
        <number:currency-style style:name="N-EUR"><number:number number:decimal-places="2" number:min-decimal-places="2" \
        number:min-integer-digits="1" number:grouping="true"/><number:text> </number:text>\
        <number:currency-symbol number:language="fr" number:country="FR">€</number:currency-symbol></number:currency-style>
        <number:date-style style:name="N-DATE"><number:day number:style="long"/><number:text>/</number:text>\
        <number:month number:style="long"/><number:text>/</number:text><number:year number:style="long"/></number:date-style>
        <number:date-style style:name="N-MOMENT"><number:day number:style="long"/><number:text>/</number:text>\
        <number:month number:style="long"/><number:text>/</number:text><number:year number:style="long"/><number:text> </number:text>\
        <number:hours number:style="long"/><number:text>:</number:text><number:minutes number:style="long"/></number:date-style>
        <style:style style:name="ce-eur" style:family="table-cell" style:data-style-name="N-EUR"/>
        <style:style style:name="ce-date" style:family="table-cell" style:data-style-name="N-DATE"/>
        <style:style style:name="ce-moment" style:family="table-cell" style:data-style-name="N-MOMENT"/>
        <style:style style:name="ce-head" style:family="table-cell"><style:text-properties fo:font-weight="bold"/></style:style>
        </office:automatic-styles>
        <office:body><office:spreadsheet><table:table table:name="\(sheet.htmlEscaped)">
        <table:table-header-rows><table:table-row>\(headers.map { "<table:table-cell table:style-name=\"ce-head\" office:value-type=\"string\"><text:p>\(xml($0))</text:p></table:table-cell>" }.joined())</table:table-row></table:table-header-rows>

        """
    }

    public static let epilogue = "</table:table></office:spreadsheet></office:body></office:document-content>\n"

    public static func row(_ cells: [ReportCell]) -> String {
        "<table:table-row>" + cells.map(cell).joined() + "</table:table-row>\n"
    }

    static func cell(_ cell: ReportCell) -> String {
        switch cell {
        case .text(let text):
            "<table:table-cell office:value-type=\"string\"><text:p>\(xml(text))</text:p></table:table-cell>"
        case .integer(let value):
            "<table:table-cell office:value-type=\"float\" office:value=\"\(value)\"><text:p>\(value)</text:p></table:table-cell>"
        case .amount(let cents):
            "<table:table-cell table:style-name=\"ce-eur\" office:value-type=\"currency\" office:currency=\"EUR\" office:value=\"\(Spreadsheet.euros(cents, decimalSeparator: "."))\"><text:p>\(Spreadsheet.euros(cents, decimalSeparator: ",")) €</text:p></table:table-cell>"
        case .decimal(let hundredths):
            "<table:table-cell office:value-type=\"float\" office:value=\"\(Spreadsheet.euros(hundredths, decimalSeparator: "."))\"><text:p>\(Spreadsheet.euros(hundredths, decimalSeparator: ","))</text:p></table:table-cell>"
        case .date(let date):
            "<table:table-cell table:style-name=\"ce-date\" office:value-type=\"date\" office:date-value=\"\(date.iso)\"><text:p>\(FrenchCSV.field(cell))</text:p></table:table-cell>"
        case .moment(let moment):
            "<table:table-cell table:style-name=\"ce-moment\" office:value-type=\"date\" office:date-value=\"\(Spreadsheet.parisTime(moment).iso)\"><text:p>\(FrenchCSV.field(cell))</text:p></table:table-cell>"
        case .flag(let value):
            "<table:table-cell office:value-type=\"string\"><text:p>\(value ? "oui" : "non")</text:p></table:table-cell>"
        case .empty:
            "<table:table-cell/>"
        }
    }

    /// Text as XML character data: markup escaped, and the characters XML 1.0 forbids (most control characters) dropped.
    static func xml(_ text: String) -> String {
        let allowed = String(
            String.UnicodeScalarView(
                text.unicodeScalars.filter {
                    $0 == "\t" || $0 == "\n" || $0 == "\r" || ($0.value >= 0x20 && $0.value != 0xFFFE && $0.value != 0xFFFF)
                }))
        return allowed.htmlEscaped
    }

    public static let manifest = """
        <?xml version="1.0" encoding="UTF-8"?>
        <manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
        <manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
        <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
        </manifest:manifest>

        """

    public static let mediaType = "application/vnd.oasis.opendocument.spreadsheet"
}
