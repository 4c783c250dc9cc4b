/// A support theme of the programme ("thématique"), grouping subthemes.
public struct Theme: Sendable, Hashable, Codable {
    /// "1" to "12".
    public let code: String
    /// French label, verbatim from the programme text, in sentence case.
    public let labelFR: String
    public let labelEN: String
    public let subthemes: [Subtheme]
}

/// A support subtheme ("sous-thématique"): what experts declare and laureates index their needs on.
public struct Subtheme: Sendable, Hashable, Codable {
    /// "1.1" to "12.3".
    public let code: String
    public let themeCode: String
    /// French label, verbatim from the programme text.
    public let labelFR: String
    /// The parenthesised details of the programme text, without the parentheses.
    public let detailsFR: String?
    public let labelEN: String
}

/// The 12 themes and 37 subthemes of the programme text, in code order.
public enum Taxonomy {
    public static let themes: [Theme] = rawThemes.map { raw in
        Theme(
            code: raw.code,
            labelFR: raw.fr,
            labelEN: raw.en,
            subthemes: raw.subthemes.enumerated().map { index, sub in
                Subtheme(
                    code: "\(raw.code).\(index + 1)",
                    themeCode: raw.code,
                    labelFR: sub.fr,
                    detailsFR: sub.details,
                    labelEN: sub.en
                )
            }
        )
    }

    /// Every subtheme by its code.
    public static let subthemesByCode: [String: Subtheme] = Dictionary(
        uniqueKeysWithValues: themes.flatMap(\.subthemes).map { ($0.code, $0) }
    )

    /// Every theme by its code.
    public static let themesByCode: [String: Theme] = Dictionary(uniqueKeysWithValues: themes.map { ($0.code, $0) })

    public static func subtheme(_ code: String) -> Subtheme? { subthemesByCode[code] }

    /// The themes of `subthemeCodes`, each once, in the order they first appear (unknown codes left out).
    public static func themeCodes(of subthemeCodes: [String]) -> [String] {
        var themes: [String] = []
        for code in subthemeCodes {
            if let theme = subtheme(code)?.themeCode, !themes.contains(theme) { themes.append(theme) }
        }
        return themes
    }
    public static func theme(_ code: String) -> Theme? { themesByCode[code] }

    private struct RawTheme {
        let code: String
        let fr: String
        let en: String
        let subthemes: [RawSubtheme]
    }

    private struct RawSubtheme {
        let fr: String
        let details: String?
        let en: String
        init(_ fr: String, _ details: String? = nil, en: String) {
            self.fr = fr
            self.details = details
            self.en = en
        }
    }

    private static let rawThemes: [RawTheme] = [
        RawTheme(
            code: "1", fr: "Stratégie foncière", en: "Land and property strategy",
            subthemes: [
                RawSubtheme(
                    "Accompagnement au montage d'une opération immobilière",
                    "méthode, bilan d'opération, plan de financement et prévisionnel, analyse de risque, argumentaire et tableau financier pour les investisseurs",
                    en: "Support in setting up a real-estate operation"),
                RawSubtheme(
                    "AMO sur la stratégie immobilière",
                    "achat / location, bail emphytéotique, place de l'usager, modélisation des coûts de gestion, valeur d'usage...",
                    en: "Project management assistance on real-estate strategy"),
                RawSubtheme(
                    "Appui à la rédaction de documents juridiques", "baux, conventions...",
                    en: "Help drafting legal documents"),
            ]),
        RawTheme(
            code: "2", fr: "Stratégie juridique", en: "Legal strategy",
            subthemes: [
                RawSubtheme(
                    "Accompagnement à la structuration d'une nouvelle entité juridique",
                    en: "Support in structuring a new legal entity"),
                RawSubtheme(
                    "Appui à la rédaction de documents clés", "statuts, contrats, chartes, conventionnements...",
                    en: "Help drafting key documents"),
            ]),
        RawTheme(
            code: "3", fr: "Gouvernance du projet et structuration de communs",
            en: "Project governance and structuring of commons",
            subthemes: [
                RawSubtheme(
                    "Accompagnement à la construction d'une vision partagée entre les parties prenantes",
                    en: "Building a vision shared by the stakeholders"),
                RawSubtheme(
                    "Mise en oeuvre de modalités de gouvernance partagée et des processus de décision & outils d'implication",
                    en: "Implementing shared governance, decision processes and engagement tools"),
            ]),
        RawTheme(
            code: "4", fr: "Stratégie économique et développement des activités",
            en: "Economic strategy and business development",
            subthemes: [
                RawSubtheme(
                    "Diagnostic de territoire et caractérisation des besoins des cibles",
                    en: "Territorial diagnosis and characterisation of target needs"),
                RawSubtheme(
                    "Stratégie de développement de ressources", "besoins des cibles, revenus, activités, tarifs, rentabilité",
                    en: "Revenue development strategy"),
                RawSubtheme(
                    "Recherche de financements annexes / stratégie de levées de fonds",
                    en: "Finding additional funding / fundraising strategy"),
                RawSubtheme(
                    "Appui au pilotage de la structure & au développement d'activités : outils de planification",
                    en: "Support in steering the organisation and developing activities: planning tools"),
                RawSubtheme("Appui à la gestion comptable et fiscale", en: "Support with accounting and tax management"),
                RawSubtheme(
                    "Création d'un fonds de dotation territorialisé", en: "Creating a territorial endowment fund"),
            ]),
        RawTheme(
            code: "5", fr: "Stratégie d'aménagements internes et d'équipements machines",
            en: "Interior fit-out and machine equipment strategy",
            subthemes: [
                RawSubtheme(
                    "Assistance à la maîtrise d'ouvrage pour différentes phases",
                    "montage et stratégie opérationnels, conception (dont application des normes), réalisation, sélection des équipements",
                    en: "Project owner assistance through the different phases"),
                RawSubtheme("Programmation architecturale", en: "Architectural programming"),
            ]),
        RawTheme(
            code: "6", fr: "Stratégie d'animation et de facilitation des communautés et équipes projet",
            en: "Facilitation of communities and project teams",
            subthemes: [
                RawSubtheme("Techniques d'animation & de programmation", en: "Facilitation and programming techniques"),
                RawSubtheme("Médiation et gestion de conflits", en: "Mediation and conflict management"),
            ]),
        RawTheme(
            code: "7", fr: "Stratégie de communication externe et de commercialisation des produits manufacturés",
            en: "External communication and marketing of manufactured products",
            subthemes: [
                RawSubtheme("Stratégie de marque", en: "Brand strategy"),
                RawSubtheme(
                    "Stratégie de communication externe", "charte, supports, cible, ligne éditoriale...",
                    en: "External communication strategy"),
                RawSubtheme("Création graphique & site internet", en: "Graphic design and website"),
            ]),
        RawTheme(
            code: "8", fr: "Stratégie de gestion RH de la structure", en: "Human resources strategy",
            subthemes: [
                RawSubtheme(
                    "Structuration de la place des salariés, bénévoles et sociétaires au sein de l'organisation",
                    en: "Structuring the place of employees, volunteers and members in the organisation"),
                RawSubtheme(
                    "Accompagnement à la montée en compétences / formation de ses salariés",
                    en: "Upskilling and training of employees"),
                RawSubtheme("Stratégie en matière de QVT", en: "Quality of working life strategy"),
            ]),
        RawTheme(
            code: "9", fr: "Développement de la formation", en: "Developing training",
            subthemes: [
                RawSubtheme("Conception de parcours de formation", en: "Designing training paths"),
                RawSubtheme(
                    "Démarche d'obtention d'un agrément de formation", en: "Obtaining a training accreditation"),
                RawSubtheme(
                    "Développement de certification des compétences type OpenBadges",
                    en: "Developing skills certification such as OpenBadges"),
                RawSubtheme(
                    "Développement d'une démarche d'inclusion des femmes dans les métiers productifs et notamment les manufactures de proximité",
                    en: "Including women in productive trades, notably in the manufactures de proximité"),
            ]),
        RawTheme(
            code: "10", fr: "Développement et mise en place d'outils de pilotage de l'activité",
            en: "Developing and deploying activity management tools",
            subthemes: [
                RawSubtheme(
                    "Développement et mise en place du plan de charge de la structure",
                    en: "Developing and implementing the organisation's workload plan"),
                RawSubtheme(
                    "Développement et mise en place d'outils de réservation / gestion au sein de sa communauté",
                    en: "Developing and implementing booking / management tools for the community"),
                RawSubtheme(
                    "Mise en place et formation à des outils de comptabilité",
                    en: "Implementing accounting tools and training in them"),
            ]),
        RawTheme(
            code: "11", fr: "Déploiement d'études, d'évaluation et de documentation",
            en: "Studies, evaluation and documentation",
            subthemes: [
                RawSubtheme(
                    "Appui au lancement d'une évaluation d'impact et d'utilité social(e)",
                    "construction d'un référentiel, outillage, réalisation d'une étude et valorisation des résultats",
                    en: "Launching a social impact and social utility evaluation"),
                RawSubtheme(
                    "Appui au lancement d'une évaluation d'impact environnemental", "bilan carbone",
                    en: "Launching an environmental impact evaluation"),
                RawSubtheme(
                    "Étude des flux énergétiques d'un bâtiment et recommandations en matière d'éco-rénovation/réhabilitation",
                    en: "Study of a building's energy flows and eco-renovation recommendations"),
                RawSubtheme(
                    "Construction d'un référentiel de documentation du projet", "enjeux, pratiques, outils",
                    en: "Building a documentation framework for the project"),
            ]),
        RawTheme(
            code: "12", fr: "Conseil technique autour de procédés de conception et de production",
            en: "Technical advice on design and production processes",
            subthemes: [
                RawSubtheme(
                    "Accompagnement technique autour d'un ou plusieurs matériaux",
                    en: "Technical support on one or more materials"),
                RawSubtheme(
                    "Accompagnement technique autour d'une ou plusieurs filière.s",
                    en: "Technical support on one or more industry sectors"),
                RawSubtheme(
                    "Accompagnement technique autour d'une technologie ou technique de conception / production",
                    en: "Technical support on a design or production technology or technique"),
            ]),
    ]
}
