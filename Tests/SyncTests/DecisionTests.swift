import Foundation
import Testing

@testable import Sync

/// The engine's decision table on its own: (API side, Drive side, journal) → what to do, with no server involved.
@Suite("The decision table")
struct DecisionTests {
    static let written = Date(timeIntervalSince1970: 1_800_000_000)
    static let path = "fab/dossier/application/candidature.pdf"

    static func document(sha: String, id: String = "doc-1") -> FeedDocument {
        FeedDocument(
            id: id, laureateId: "lau-1", laureateSlug: "fab", missionId: nil, missionRef: nil, kind: .application, version: 1,
            fileName: "candidature.pdf", size: 3, sha256: sha, revision: 1, withdrawn: false, drivePath: path)
    }

    static func remote(etag: String = "\"e1\"", length: Int = 3, modified: Date = written, checksums: [String: String] = [:])
        -> RemoteEntry
    {
        RemoteEntry(path: path, isCollection: false, etag: etag, length: length, lastModified: modified, checksums: checksums)
    }

    /// In step since well after the file's last write, unless `racy`.
    static func journal(documentID: String? = "doc-1", racy: Bool = false, modified: Date? = written) -> JournalEntry {
        JournalEntry(
            path: path, documentID: documentID, version: 1, sha256: a, remoteETag: "\"e1\"", size: 3, remoteModified: modified,
            checkedAt: written.addingTimeInterval(racy ? 0.4 : 5))
    }

    static let a = String(repeating: "a", count: 64)
    static let b = String(repeating: "b", count: 64)

    struct Row: CustomTestStringConvertible, Sendable {
        let name: String
        let api: FeedDocument?
        let remote: RemoteEntry?
        let journal: JournalEntry?
        var withdrawn: Set<String> = []
        let expected: Decision
        var testDescription: String { name }
    }

    static let rows: [Row] = {
        let (api, apiEdited) = (document(sha: a), document(sha: b))
        let (remote, remoteEdited) = (Self.remote(), Self.remote(etag: "\"e2\""))
        let entry = journal()
        let driveOnly = journal(documentID: nil)
        return [
            Row(name: "nothing anywhere", api: nil, remote: nil, journal: nil, expected: .none),
            Row(name: "gone from both sides: forgotten", api: nil, remote: nil, journal: entry, expected: .forget),
            Row(name: "new in the API: pushed", api: api, remote: nil, journal: nil, expected: .push(api, replacing: nil)),
            Row(name: "deleted on the Drive only: pushed again", api: api, remote: nil, journal: entry, expected: .repush(api)),
            Row(
                name: "withdrawn in the API: archived", api: nil, remote: remote, journal: entry, withdrawn: ["doc-1"],
                expected: .archive(remote)),
            Row(
                name: "moved to another name in the API: old copy archived", api: nil, remote: remote, journal: entry,
                expected: .archive(remote)),
            Row(name: "a Drive-only file unchanged", api: nil, remote: remote, journal: driveOnly, expected: .none),
            Row(
                name: "a Drive-only file checked in its last second: verified", api: nil, remote: remote,
                journal: journal(documentID: nil, racy: true),
                expected: .verify(nil, remote, journal(documentID: nil, racy: true), apiChanged: false)),
            Row(
                name: "a Drive-only file edited: pulled", api: nil, remote: remoteEdited, journal: driveOnly,
                expected: .pull(nil, remoteEdited)),
            Row(name: "new on the Drive: pulled", api: nil, remote: remote, journal: nil, expected: .pull(nil, remote)),
            Row(
                name: "on both sides, never journaled: compared", api: api, remote: remote, journal: nil, expected: .reconcile(api, remote)),
            Row(name: "in step", api: api, remote: remote, journal: entry, expected: .none),
            Row(
                name: "a weak tag names the same version", api: api, remote: Self.remote(etag: "W/\"e1\""), journal: entry, expected: .none),
            Row(
                name: "edited in the API: pushed over the listed file", api: apiEdited, remote: remote, journal: entry,
                expected: .push(apiEdited, replacing: remote)),
            Row(name: "edited on the Drive: pulled", api: api, remote: remoteEdited, journal: entry, expected: .pull(api, remoteEdited)),
            Row(
                name: "edited on both sides: both kept", api: apiEdited, remote: remoteEdited, journal: entry,
                expected: .reconcile(apiEdited, remoteEdited)),
            Row(
                name: "same tag, another size: pulled", api: api, remote: Self.remote(length: 4), journal: entry,
                expected: .pull(api, Self.remote(length: 4))),
            Row(
                name: "same tag and size, the server's SHA-256 differs: pulled", api: api, remote: Self.remote(checksums: ["SHA256": b]),
                journal: entry, expected: .pull(api, Self.remote(checksums: ["SHA256": b]))),
            Row(
                name: "checked in the file's last second: verified", api: api, remote: remote, journal: journal(racy: true),
                expected: .verify(api, remote, journal(racy: true), apiChanged: false)),
            Row(
                name: "checked in its last second, edited in the API: verified then pushed", api: apiEdited, remote: remote,
                journal: journal(racy: true), expected: .verify(apiEdited, remote, journal(racy: true), apiChanged: true)),
            Row(
                name: "checked in its last second, the server's SHA-256 agrees: in step", api: api,
                remote: Self.remote(checksums: ["SHA256": a]),
                journal: journal(racy: true), expected: .none),
            Row(
                name: "pushed, no date of its own, listed date well before the check: in step", api: api, remote: remote,
                journal: journal(modified: nil), expected: .none),
            Row(
                name: "pushed, no date of its own, listed in the second of the check: verified", api: api,
                remote: Self.remote(modified: written.addingTimeInterval(5)), journal: journal(modified: nil),
                expected: .verify(api, Self.remote(modified: written.addingTimeInterval(5)), journal(modified: nil), apiChanged: false)),
        ]
    }()

    @Test(arguments: rows)
    func eachCombinationHasOneDecision(_ row: Row) {
        #expect(SyncEngine.decide(api: row.api, remote: row.remote, journal: row.journal, withdrawnIDs: row.withdrawn) == row.expected)
    }

    /// Every step of the probe must move the tag; a tag missing anywhere means the folder tags cannot be trusted.
    @Test func folderTagSupportIsReadFromTheProbe() {
        let moving: [(outer: String?, inner: String?)] = [
            ("\"o1\"", "\"i1\""), ("\"o2\"", "\"i2\""), ("\"o3\"", "\"i3\""), ("\"o4\"", "\"i4\""),
        ]
        #expect(SyncEngine.support(fromTags: moving) == .recursive)
        let apacheLike = moving.map { (outer: "W/\"o1\"", inner: $0.inner) }
        #expect(SyncEngine.support(fromTags: apacheLike) == .direct)
        var sameSizeEditUnseen = moving
        sameSizeEditUnseen[2].inner = "W/\"i2\""  // weak or strong, the same version
        #expect(SyncEngine.support(fromTags: sameSizeEditUnseen) == .none)
        #expect(SyncEngine.support(fromTags: moving.map { (outer: $0.outer, inner: nil) }) == .none)
    }

    @Test func onADriveWhoseFileTagsMoveWithAnyWriteATagThatDidNotMoveIsTrusted() {
        let racy = Self.journal(racy: true)
        #expect(SyncEngine.decide(api: Self.document(sha: Self.a), remote: Self.remote(), journal: racy, withdrawnIDs: []) != .none)
        #expect(
            SyncEngine.decide(api: Self.document(sha: Self.a), remote: Self.remote(), journal: racy, withdrawnIDs: [], fineTags: true)
                == .none)
        #expect(
            SyncEngine.decide(
                api: nil, remote: Self.remote(), journal: Self.journal(documentID: nil, racy: true), withdrawnIDs: [], fineTags: true)
                == .none)
    }

    @Test func fileTagsAreFineOnlyWhenTwoWritesInOneSecondMovedThem() {
        let second = Self.written
        func entry(_ etag: String, _ date: Date) -> RemoteEntry {
            RemoteEntry(path: "p", isCollection: false, etag: etag, length: 8, lastModified: date, checksums: [:])
        }
        #expect(SyncEngine.tagsAreFine(entry("\"1-100-8\"", second), entry("\"1-100-8\"", second)) == false)  // wsgidav-like
        #expect(SyncEngine.tagsAreFine(entry("W/\"8-5f1a\"", second), entry("W/\"8-5f1b\"", second)) == true)  // Apache-like
        #expect(SyncEngine.tagsAreFine(entry("\"1-100-8\"", second), entry("\"1-101-8\"", second.addingTimeInterval(1))) == nil)
        #expect(SyncEngine.tagsAreFine(nil, entry("\"x\"", second)) == false)
    }

    @Test func ofTwoNamesThatDifferOnlyByUnicodeFormTheKnownOneThenTheNFCOneIsSynced() {
        let nfc = RemoteEntry(
            path: "fab/dossier/framing_note/caf\u{E9}.txt", isCollection: false, etag: nil, length: 1, lastModified: nil, checksums: [:])
        let nfd = RemoteEntry(
            path: "fab/dossier/framing_note/cafe\u{301}.txt", isCollection: false, etag: nil, length: 1, lastModified: nil, checksums: [:])
        #expect(SyncEngine.twinKept(nfd, nfc, known: nil) == nfc)
        #expect(SyncEngine.twinKept(nfc, nfd, known: nil) == nfc)
        let knownNFD = JournalEntry(
            path: nfc.path, documentID: "d", version: 1, sha256: Self.a, remoteETag: nil, size: 1, remoteModified: nil, remotePath: nfd.path
        )
        #expect(SyncEngine.twinKept(nfc, nfd, known: knownNFD) == nfd)
    }

    @Test func theFoldersAboveAPath() {
        #expect(SyncEngine.ancestors(of: "fab/dossier/application/a.pdf") == ["fab", "fab/dossier", "fab/dossier/application"])
        #expect(SyncEngine.ancestors(of: "a.pdf").isEmpty)
        let skipped: Set = ["fab/dossier/application", "b"]
        #expect(SyncEngine.isBelow("fab/dossier/application/a.pdf", anyOf: skipped))
        #expect(SyncEngine.isBelow("b/missions/2024-0001/quote/q.pdf", anyOf: skipped))
        #expect(!SyncEngine.isBelow("fab/dossier/applications/a.pdf", anyOf: skipped) && !SyncEngine.isBelow("b", anyOf: skipped))
    }

    /// Only names the probe moved a file to are moved into place on a Drive with tags by the second; the others
    /// (wsgidav reads `?` in a Destination as a query) are PUT in place and read back once.
    @Test func plainNamesAreThoseTheProbeMovesAFileTo() {
        #expect(DriveTraits.isPlain("atelier/dossier/application/Bilan été (v2) + annexe, l'équipe & co = ok~.pdf"))
        #expect(DriveTraits.isPlain("a/Bilan e\u{301}te\u{301}.pdf"))  // decomposed: letters and their marks
        #expect(DriveTraits.isPlain("a/50% devis #2.pdf"))
        for odd in ["a/l'atelier ?.pdf", "a/x&y=1;z.txt", "a/\"final\".pdf", "a/tab\there.txt", "a/<a|b>*:.txt"] {
            #expect(!DriveTraits.isPlain(odd), "\(odd)")
        }
        let wsgidav = DriveTraits(
            folderTags: .none, honoursPreconditions: true, refusesMoveOverwrite: true, movesPlainNames: true, fineFileTags: false,
            listsWholeTree: true)
        #expect(wsgidav.landsAfterItsSecond("a/b.pdf") && !wsgidav.landsAfterItsSecond("a/b ?.pdf"))
        var fine = wsgidav
        fine.fineFileTags = true
        #expect(!fine.landsAfterItsSecond("a/b.pdf"))
    }

    /// A run reads where each folder belongs whenever a decision may make a new document from a Drive file: a stray
    /// file proved someone else's, or a file with no document read again and found changed, as well as a plain pull.
    @Test func decisionsThatMayMakeADocumentFromADriveFile() {
        let remote = Self.remote()
        let intent = UploadIntent(sha256: Self.a, size: 3, documentID: "doc-1", version: 1)
        #expect(Decision.pull(nil, remote).mayCreateDocument && Decision.stray(remote, intent).mayCreateDocument)
        #expect(Decision.verify(nil, remote, Self.journal(documentID: nil, racy: true), apiChanged: false).mayCreateDocument)
        #expect(!Decision.pull(Self.document(sha: Self.a), remote).mayCreateDocument && !Decision.archive(remote).mayCreateDocument)
    }
}
