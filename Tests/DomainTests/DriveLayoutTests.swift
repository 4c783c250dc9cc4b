import Domain
import Foundation
import Testing

@Suite("Drive layout")
struct DriveLayoutTests {
    @Test func slugsFoldAccentsAndKeepLowercaseASCII() {
        #expect(Slug.make("Atelier Éphémère & Cie") == "atelier-ephemere-cie")
        #expect(Slug.make("Manufacture d'Œuvres — Île-de-France") == "manufacture-d-oeuvres-ile-de-france")
        #expect(Slug.make("  ---  ") == "x")
        #expect(Slug.make("🧵 Fil & Fabrique 🧵") == "fil-fabrique")
        #expect(Slug.make(String(repeating: "a", count: 100)).count == Slug.maxLength)
        #expect(Slug.make("Le Bocal Straße") == "le-bocal-strasse")
    }

    @Test func slugsAreTheSameForNFCAndNFDSpellings() {
        let nfc = "Fabrique Émeraude".precomposedStringWithCanonicalMapping
        let nfd = "Fabrique Émeraude".decomposedStringWithCanonicalMapping
        #expect(nfc.unicodeScalars.count != nfd.unicodeScalars.count)
        #expect(Slug.make(nfc) == Slug.make(nfd))
    }

    @Test func uniqueSlugsNeverCollide() {
        var taken: Set<String> = []
        for name in ["La Fabrique", "la fabrique", "LA FABRIQUE!", "La Fabriqué"] {
            let slug = Slug.unique(name, taken: taken)
            #expect(!taken.contains(slug) && Slug.isValid(slug))
            taken.insert(slug)
        }
        #expect(taken == ["la-fabrique", "la-fabrique-2", "la-fabrique-3", "la-fabrique-4"])
        let long = String(repeating: "b", count: 80)
        let first = Slug.unique(long, taken: [])
        #expect(Slug.unique(long, taken: [first]).count == Slug.maxLength)
    }

    static let hostileNames: [String] = [
        "Compte rendu été.pdf", "Compte rendu e\u{301}te\u{301}.pdf", "devis \"final\" l'atelier.odt", "..", ".", "../../etc/passwd",
        "a/b\\c.txt", "50% #2 ?.csv", "🧵🪡 fil.png", " spaced name .txt", "tab\tand\nnewline.txt", "\u{0}nul.txt",
        String(repeating: "é", count: 200) + ".pdf", String(repeating: "x", count: 255), String(repeating: "🧵", count: 70) + ".jpeg",
        "", ".hidden", "con", "name.with.many.dots.tar.gz",
    ]

    @Test(arguments: hostileNames)
    func sanitisedNamesAreSafeSegmentsAndRoundTripThroughTheLayout(_ raw: String) throws {
        let name = FileName.sanitised(raw)
        #expect(FileName.sanitised(name) == name, "sanitising twice changes nothing")
        #expect(!name.isEmpty && name.utf8.count <= FileName.maxBytes)
        #expect(!name.contains("/") && !name.contains("\\") && !name.hasPrefix(".") && name != "..")
        #expect(!name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
        #expect(name == name.precomposedStringWithCanonicalMapping)
        for location in [
            DriveLocation(laureateSlug: "la-fabrique", missionRef: nil, kind: .postIncubation, fileName: name),
            DriveLocation(laureateSlug: "la-fabrique-2", missionRef: MissionRef("2024-0107"), kind: .missionReport, fileName: name),
        ] {
            let path = try DriveLayout.path(for: location)
            #expect(try DriveLayout.location(of: path) == location)
        }
    }

    @Test func nfcAndNfdNamesGiveTheSamePath() throws {
        let nfc = FileName.sanitised("Bilan été.pdf".precomposedStringWithCanonicalMapping)
        let nfd = FileName.sanitised("Bilan été.pdf".decomposedStringWithCanonicalMapping)
        #expect(nfc == nfd)
    }

    @Test func longNamesAreCutOnACharacterBoundaryKeepingTheExtension() {
        let name = FileName.sanitised(String(repeating: "é", count: 200) + ".pdf")
        #expect(name.hasSuffix(".pdf"))
        #expect(name.utf8.count <= 255 && name.utf8.count >= 253)
        let emoji = FileName.sanitised(String(repeating: "🧵", count: 70) + ".jpeg")
        #expect(emoji.hasSuffix(".jpeg") && emoji.dropLast(5).allSatisfy { $0 == "🧵" })
        let exact = String(repeating: "x", count: 251) + ".pdf"
        #expect(FileName.sanitised(exact) == exact)
    }

    @Test func pathsFollowTheLayout() throws {
        let dossier = DriveLocation(laureateSlug: "fab-lab", missionRef: nil, kind: .framingNote, fileName: "note.pdf")
        #expect(try DriveLayout.path(for: dossier) == "fab-lab/dossier/framing_note/note.pdf")
        let mission = DriveLocation(laureateSlug: "fab-lab", missionRef: MissionRef("2023-0042"), kind: .quote, fileName: "devis.pdf")
        #expect(try DriveLayout.path(for: mission) == "fab-lab/missions/2023-0042/quote/devis.pdf")
    }

    @Test func theLayoutRefusesToBuildWhatItCouldNotReadBack() {
        #expect(throws: DriveLayoutError.invalidSlug("Fab Lab")) {
            try DriveLayout.path(for: DriveLocation(laureateSlug: "Fab Lab", missionRef: nil, kind: .application, fileName: "a.pdf"))
        }
        #expect(throws: DriveLayoutError.fileNameNotSanitised("../a.pdf")) {
            try DriveLayout.path(for: DriveLocation(laureateSlug: "fab", missionRef: nil, kind: .application, fileName: "../a.pdf"))
        }
        #expect(throws: DriveLayoutError.kindDoesNotBelong(.quote, inMission: false)) {
            try DriveLayout.path(for: DriveLocation(laureateSlug: "fab", missionRef: nil, kind: .quote, fileName: "a.pdf"))
        }
        #expect(throws: DriveLayoutError.kindDoesNotBelong(.application, inMission: true)) {
            try DriveLayout.path(
                for: DriveLocation(laureateSlug: "fab", missionRef: MissionRef("2023-0001"), kind: .application, fileName: "a.pdf"))
        }
    }

    @Test(arguments: [
        "fab/dossier/application", "fab/dossier/quote/a.pdf", "fab/dossier/unknown/a.pdf", "Fab/dossier/application/a.pdf",
        "fab/missions/2023-42/quote/a.pdf", "fab/missions/2023-0042/application/a.pdf", "fab/missions/2023-0042/quote/a/b.pdf",
        "fab/dossier/application/.hidden", "fab/dossier/application/", "/fab/dossier/application/a.pdf", "fab/other/application/a.pdf",
        "fab/dossier/application/..", "", "notes.txt",
    ])
    func unknownRemotePathsAreReportedNotGuessed(_ path: String) {
        #expect(throws: DriveLayoutError.unknownPath(path)) { try DriveLayout.location(of: path) }
    }

    @Test func missionReferencesParseOnlyTheirOwnSpelling() {
        #expect(MissionRef("2023-0042")?.sequence == 42)
        #expect(MissionRef("2023-123456")?.description == "2023-123456")
        #expect(MissionRef("2023-042") == nil)
        #expect(MissionRef("2023-00042") == nil)
        #expect(MissionRef("23-0042") == nil)
        #expect(MissionRef("2023-0000") == nil)
    }
}
