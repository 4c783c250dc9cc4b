/// A French région, by its INSEE code.
public struct Region: Sendable, Hashable, Codable {
    public let code: String
    public let name: String
}

/// A French département, by its INSEE code, with the région it belongs to.
public struct Department: Sendable, Hashable, Codable {
    public let code: String
    public let name: String
    public let regionCode: String
}

/// The three priority territories of the programme.
public enum TerritoryType: String, Sendable, Hashable, Codable, CaseIterable {
    case rural
    case smallOrMediumTown = "small_or_medium_town"
    case qpv

    public var labelFR: String {
        switch self {
        case .rural: "Territoire rural"
        case .smallOrMediumTown: "Petite et moyenne ville"
        case .qpv: "Quartier prioritaire de la politique de la ville (QPV)"
        }
    }

    public var labelEN: String {
        switch self {
        case .rural: "Rural territory"
        case .smallOrMediumTown: "Small or medium town"
        case .qpv: "Priority urban neighbourhood (QPV)"
        }
    }
}

/// The 18 régions and 101 départements of France (official geography, INSEE codes).
public enum Territories {
    /// Régions in INSEE code order.
    public static let regions: [Region] = [
        ("01", "Guadeloupe"), ("02", "Martinique"), ("03", "Guyane"), ("04", "La Réunion"), ("06", "Mayotte"),
        ("11", "Île-de-France"), ("24", "Centre-Val de Loire"), ("27", "Bourgogne-Franche-Comté"),
        ("28", "Normandie"), ("32", "Hauts-de-France"), ("44", "Grand Est"), ("52", "Pays de la Loire"),
        ("53", "Bretagne"), ("75", "Nouvelle-Aquitaine"), ("76", "Occitanie"), ("84", "Auvergne-Rhône-Alpes"),
        ("93", "Provence-Alpes-Côte d'Azur"), ("94", "Corse"),
    ].map { Region(code: $0.0, name: $0.1) }

    /// Départements in INSEE code order ("2A" and "2B" between "19" and "21").
    public static let departments: [Department] = [
        ("01", "Ain", "84"), ("02", "Aisne", "32"), ("03", "Allier", "84"), ("04", "Alpes-de-Haute-Provence", "93"),
        ("05", "Hautes-Alpes", "93"), ("06", "Alpes-Maritimes", "93"), ("07", "Ardèche", "84"),
        ("08", "Ardennes", "44"), ("09", "Ariège", "76"), ("10", "Aube", "44"), ("11", "Aude", "76"),
        ("12", "Aveyron", "76"), ("13", "Bouches-du-Rhône", "93"), ("14", "Calvados", "28"), ("15", "Cantal", "84"),
        ("16", "Charente", "75"), ("17", "Charente-Maritime", "75"), ("18", "Cher", "24"), ("19", "Corrèze", "75"),
        ("2A", "Corse-du-Sud", "94"), ("2B", "Haute-Corse", "94"), ("21", "Côte-d'Or", "27"),
        ("22", "Côtes-d'Armor", "53"), ("23", "Creuse", "75"), ("24", "Dordogne", "75"), ("25", "Doubs", "27"),
        ("26", "Drôme", "84"), ("27", "Eure", "28"), ("28", "Eure-et-Loir", "24"), ("29", "Finistère", "53"),
        ("30", "Gard", "76"), ("31", "Haute-Garonne", "76"), ("32", "Gers", "76"), ("33", "Gironde", "75"),
        ("34", "Hérault", "76"), ("35", "Ille-et-Vilaine", "53"), ("36", "Indre", "24"),
        ("37", "Indre-et-Loire", "24"), ("38", "Isère", "84"), ("39", "Jura", "27"), ("40", "Landes", "75"),
        ("41", "Loir-et-Cher", "24"), ("42", "Loire", "84"), ("43", "Haute-Loire", "84"),
        ("44", "Loire-Atlantique", "52"), ("45", "Loiret", "24"), ("46", "Lot", "76"),
        ("47", "Lot-et-Garonne", "75"), ("48", "Lozère", "76"), ("49", "Maine-et-Loire", "52"),
        ("50", "Manche", "28"), ("51", "Marne", "44"), ("52", "Haute-Marne", "44"), ("53", "Mayenne", "52"),
        ("54", "Meurthe-et-Moselle", "44"), ("55", "Meuse", "44"), ("56", "Morbihan", "53"),
        ("57", "Moselle", "44"), ("58", "Nièvre", "27"), ("59", "Nord", "32"), ("60", "Oise", "32"),
        ("61", "Orne", "28"), ("62", "Pas-de-Calais", "32"), ("63", "Puy-de-Dôme", "84"),
        ("64", "Pyrénées-Atlantiques", "75"), ("65", "Hautes-Pyrénées", "76"), ("66", "Pyrénées-Orientales", "76"),
        ("67", "Bas-Rhin", "44"), ("68", "Haut-Rhin", "44"), ("69", "Rhône", "84"), ("70", "Haute-Saône", "27"),
        ("71", "Saône-et-Loire", "27"), ("72", "Sarthe", "52"), ("73", "Savoie", "84"),
        ("74", "Haute-Savoie", "84"), ("75", "Paris", "11"), ("76", "Seine-Maritime", "28"),
        ("77", "Seine-et-Marne", "11"), ("78", "Yvelines", "11"), ("79", "Deux-Sèvres", "75"),
        ("80", "Somme", "32"), ("81", "Tarn", "76"), ("82", "Tarn-et-Garonne", "76"), ("83", "Var", "93"),
        ("84", "Vaucluse", "93"), ("85", "Vendée", "52"), ("86", "Vienne", "75"), ("87", "Haute-Vienne", "75"),
        ("88", "Vosges", "44"), ("89", "Yonne", "27"), ("90", "Territoire de Belfort", "27"),
        ("91", "Essonne", "11"), ("92", "Hauts-de-Seine", "11"), ("93", "Seine-Saint-Denis", "11"),
        ("94", "Val-de-Marne", "11"), ("95", "Val-d'Oise", "11"), ("971", "Guadeloupe", "01"),
        ("972", "Martinique", "02"), ("973", "Guyane", "03"), ("974", "La Réunion", "04"), ("976", "Mayotte", "06"),
    ].map { Department(code: $0.0, name: $0.1, regionCode: $0.2) }

    public static let regionsByCode: [String: Region] = Dictionary(uniqueKeysWithValues: regions.map { ($0.code, $0) })
    public static let departmentsByCode: [String: Department] = Dictionary(
        uniqueKeysWithValues: departments.map { ($0.code, $0) }
    )

    public static func region(_ code: String) -> Region? { regionsByCode[code] }
    public static func department(_ code: String) -> Department? { departmentsByCode[code] }

    /// The départements of a région, in code order.
    public static func departments(inRegion code: String) -> [Department] {
        departments.filter { $0.regionCode == code }
    }
}

/// Where an expert offers to work: départements, whole régions, the whole country, and/or remotely.
public struct Coverage: Sendable, Hashable, Codable {
    public var regionCodes: [String]
    public var departmentCodes: [String]
    public var national: Bool
    public var remote: Bool

    public init(regionCodes: [String] = [], departmentCodes: [String] = [], national: Bool = false, remote: Bool = false) {
        self.regionCodes = regionCodes
        self.departmentCodes = departmentCodes
        self.national = national
        self.remote = remote
    }

    /// True when the expert has named at least one place (remote alone does not say where).
    public var namesAPlace: Bool { national || !regionCodes.isEmpty || !departmentCodes.isEmpty }

    /// An expert covers a département when they cover it, its région, or the whole country.
    public func covers(departmentCode: String) -> Bool {
        if national || departmentCodes.contains(departmentCode) { return true }
        guard let department = Territories.department(departmentCode) else { return false }
        return regionCodes.contains(department.regionCode)
    }

    /// An expert covers a région when they cover the whole région, one of its départements, or the whole country.
    public func covers(regionCode: String) -> Bool {
        if national || regionCodes.contains(regionCode) { return true }
        return departmentCodes.contains { Territories.department($0)?.regionCode == regionCode }
    }
}
