import Foundation

/// Where a document belongs: a laureate's dossier, or one of its missions.
public enum DocumentKind: String, Sendable, Hashable, Codable, CaseIterable {
    case application
    case postIncubation = "post_incubation"
    case framingNote = "framing_note"
    case diagnostic, quote
    case missionReport = "mission_report"
    case satisfactionReview = "satisfaction_review"
    case deliverable, other

    /// The dossier kinds, read by engaged experts; the others belong to a mission.
    public var isDossier: Bool {
        switch self {
        case .application, .postIncubation, .framingNote: true
        case .diagnostic, .quote, .missionReport, .satisfactionReview, .deliverable, .other: false
        }
    }
}

/// Folder names made from people's names: accents folded, lowercase ASCII letters, digits and hyphens.
public enum Slug {
    public static let maxLength = 60

    /// "Atelier Éphémère & Cie" → "atelier-ephemere-cie". Never empty ("x" when nothing is left).
    public static func make(_ name: String) -> String {
        let folded = name.precomposedStringWithCanonicalMapping
            .replacingOccurrences(of: "œ", with: "oe").replacingOccurrences(of: "Œ", with: "OE")
            .replacingOccurrences(of: "æ", with: "ae").replacingOccurrences(of: "Æ", with: "AE")
            .replacingOccurrences(of: "ß", with: "ss")
            .folding(options: [.diacriticInsensitive, .caseInsensitive, .widthInsensitive], locale: Locale(identifier: "fr_FR"))
            .lowercased()
        var slug = ""
        var pendingHyphen = false
        for scalar in folded.unicodeScalars {
            if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) {
                if pendingHyphen && !slug.isEmpty { slug.append("-") }
                pendingHyphen = false
                slug.unicodeScalars.append(scalar)
            } else {
                pendingHyphen = true
            }
        }
        if slug.count > maxLength {
            slug = String(slug.prefix(maxLength))
            while slug.hasSuffix("-") { slug.removeLast() }
        }
        return slug.isEmpty ? "x" : slug
    }

    /// The slug of `name`, suffixed `-2`, `-3`… until it is not in `taken`: two laureates never share a folder.
    public static func unique(_ name: String, taken: Set<String>) -> String {
        let base = make(name)
        guard taken.contains(base) else { return base }
        var counter = 2
        while true {
            let suffix = "-\(counter)"
            let candidate = String(base.prefix(maxLength - suffix.count)) + suffix
            if !taken.contains(candidate) { return candidate }
            counter += 1
        }
    }

    /// A slug is what `make` can produce: the Drive layout refuses any other folder name.
    public static func isValid(_ text: String) -> Bool {
        !text.isEmpty && text.count <= maxLength && !text.hasPrefix("-") && !text.hasSuffix("-") && !text.contains("--")
            && text.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.lowercaseLetters.contains($0) || CharacterSet.decimalDigits.contains($0) || $0 == "-")
            }
    }
}

/// File names as the document store keeps them, safe as one path segment on any Drive.
public enum FileName {
    /// Most file systems cap a name at 255 bytes.
    public static let maxBytes = 255

    /// NFC, no control characters, no `/` or `\`, no leading dots or surrounding spaces, at most 255 UTF-8 bytes
    /// (cut on a character boundary, the extension kept), and never empty. Applying it twice changes nothing.
    public static func sanitised(_ raw: String) -> String {
        var name = raw.precomposedStringWithCanonicalMapping
        name = String(
            name.unicodeScalars.map { scalar -> Character in
                if scalar == "/" || scalar == "\\" { return "-" }
                if CharacterSet.controlCharacters.contains(scalar)
                    || scalar.properties.generalCategory == .format
                        && scalar.value < 0x2000
                {
                    return "_"
                }
                return Character(scalar)
            })
        name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        while name.hasPrefix(".") { name.removeFirst() }
        name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.utf8.count > maxBytes { name = truncated(name) }
        return name.isEmpty ? "document" : name
    }

    /// Whether `name` is already what `sanitised` would make of it.
    public static func isSanitised(_ name: String) -> Bool { sanitised(name) == name }

    private static func truncated(_ name: String) -> String {
        var stem = Substring(name)
        var ext: Substring = ""
        if let dot = name.lastIndex(of: "."), name.utf8.distance(from: dot, to: name.endIndex) <= 16 {
            stem = name[..<dot]
            ext = name[dot...]
        }
        var result = ""
        let budget = maxBytes - ext.utf8.count
        for character in stem {
            if result.utf8.count + String(character).utf8.count > budget { break }
            result.append(character)
        }
        return result.trimmingCharacters(in: .whitespaces) + ext
    }
}

/// Where a document lives on the Drive, relative to the sync root.
public struct DriveLocation: Sendable, Hashable {
    public let laureateSlug: String
    /// Nil for a dossier document.
    public let missionRef: MissionRef?
    public let kind: DocumentKind
    public let fileName: String

    public init(laureateSlug: String, missionRef: MissionRef?, kind: DocumentKind, fileName: String) {
        self.laureateSlug = laureateSlug
        self.missionRef = missionRef
        self.kind = kind
        self.fileName = fileName
    }
}

/// Why a path cannot be laid out or read back. An unknown remote path is reported, never guessed.
public enum DriveLayoutError: Error, Sendable, Hashable {
    case invalidSlug(String)
    case fileNameNotSanitised(String)
    case kindDoesNotBelong(DocumentKind, inMission: Bool)
    case unknownPath(String)
}

/// The Drive layout: `<slug>/dossier/<kind>/<file>` and `<slug>/missions/<ref>/<kind>/<file>`, both ways.
public enum DriveLayout {
    public static let dossierFolder = "dossier"
    public static let missionsFolder = "missions"

    /// The path of `location` relative to the sync root, segments joined by `/` (not percent-encoded).
    public static func path(for location: DriveLocation) throws(DriveLayoutError) -> String {
        guard Slug.isValid(location.laureateSlug) else { throw .invalidSlug(location.laureateSlug) }
        guard FileName.isSanitised(location.fileName) else { throw .fileNameNotSanitised(location.fileName) }
        if let ref = location.missionRef {
            guard !location.kind.isDossier else { throw .kindDoesNotBelong(location.kind, inMission: true) }
            return [location.laureateSlug, missionsFolder, ref.description, location.kind.rawValue, location.fileName]
                .joined(separator: "/")
        }
        guard location.kind.isDossier else { throw .kindDoesNotBelong(location.kind, inMission: false) }
        return [location.laureateSlug, dossierFolder, location.kind.rawValue, location.fileName].joined(separator: "/")
    }

    /// Reads a path relative to the sync root back into a location; anything the layout does not produce is unknown.
    public static func location(of path: String) throws(DriveLayoutError) -> DriveLocation {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let location: DriveLocation?
        switch segments.count {
        case 4 where segments[1] == dossierFolder:
            location = DocumentKind(rawValue: segments[2]).flatMap {
                $0.isDossier ? DriveLocation(laureateSlug: segments[0], missionRef: nil, kind: $0, fileName: segments[3]) : nil
            }
        case 5 where segments[1] == missionsFolder:
            location = MissionRef(segments[2]).flatMap { ref in
                DocumentKind(rawValue: segments[3]).flatMap {
                    $0.isDossier ? nil : DriveLocation(laureateSlug: segments[0], missionRef: ref, kind: $0, fileName: segments[4])
                }
            }
        default:
            location = nil
        }
        guard let location, Slug.isValid(location.laureateSlug), FileName.isSanitised(location.fileName) else {
            throw .unknownPath(path)
        }
        return location
    }
}
