/// The words the demo is made of (fictional people and places; commune codes are INSEE's).
extension DemoData {
    static let firstNames = [
        "Claire", "Julien", "Sophie", "Thomas", "Camille", "Nicolas", "Léa", "Mathieu", "Émilie", "Antoine", "Chloé", "Maxime", "Manon",
        "Hugo", "Inès", "Lucas", "Sarah", "Romain", "Élodie", "Karim", "Fatou", "Yann", "Gwenaëlle", "Loïc", "Anaïs", "Benoît", "Océane",
        "François", "Hélène", "Jérôme", "Amina", "Mehdi", "Solène", "Baptiste", "Noémie", "Cédric", "Margaux", "Rémi", "Zoé", "Théo",
    ]
    static let lastNames = [
        "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre",
        "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert",
        "Bonnet", "François", "Martinez", "Le Gall", "Benali", "Nguyen", "Kerouac", "Müller", "Da Silva", "Besnard", "Ferreira", "Guérin",
        "Chevalier", "Lemaître",
    ]
    static let organisationPatterns = [
        "{nom} Conseil", "Atelier {nom}", "Cabinet {nom}", "SCOP Les Communs {nom}", "{nom} & Associés", "Coopérative Faire Ensemble",
        "Tiers-Lab {nom}", "{nom} Ingénierie", "Studio {nom}", "L'Établi {nom}",
    ]
    static let sectors = [
        "bois", "textile", "métal", "céramique", "alimentaire", "numérique", "réemploi", "impression 3D", "verre", "cuir", "papier",
        "électronique", "mobilier", "éco-construction",
    ]
    static let tiersLieux = [
        "La Quincaillerie", "Le Bocal", "La Fabrique de Territoire", "L'Usine Vivante", "Le Moulin Partagé", "La Cordée",
        "Les Ateliers du Lac",
        "Le 100e Singe", "La Manufacture Solidaire", "Fab Lab des Vallées", "L'Atelier Paysan", "La Ressourcerie Créative",
        "Les Grands Voisins",
        "La Tréso", "Le Garage Numérique", "Makerspace du Bocage",
    ]
    static let openings = [
        "J'accompagne depuis dix ans les tiers-lieux productifs sur", "Consultante indépendante, je travaille avec les manufactures sur",
        "Notre coopérative intervient auprès des lieux de fabrication partagés sur", "Ancien directeur de fablab, j'interviens sur",
        "Nous aidons les collectifs de makers et d'artisans sur",
    ]
    static let closings = [
        "Méthodes participatives, livrables concrets et transmission aux équipes.", "Interventions sur site et à distance.",
        "Approche sur mesure, attentive aux réalités des territoires ruraux et des QPV.", "Travail en binôme avec les équipes projet.",
    ]
    static let themePitch: [String: String] = [
        "1": "la stratégie foncière et le montage d'opérations immobilières", "2": "la structuration juridique et la rédaction des statuts",
        "3": "la gouvernance partagée et la structuration de communs", "4": "le modèle économique et le développement des activités",
        "5": "l'aménagement des ateliers et le choix d'équipement machines", "6": "l'animation des communautés et la facilitation",
        "7": "la stratégie de marque et la commercialisation des produits manufacturés", "8": "la gestion RH, les bénévoles et la QVT",
        "9": "la conception de parcours de formation et l'agrément", "10": "les outils de pilotage, de réservation et de comptabilité",
        "11": "l'évaluation d'impact social et environnemental", "12": "le conseil technique sur les matériaux et procédés de production",
    ]
    static let experienceTemplates = [
        "Diagnostic et plan d'action pour un atelier {secteur}.", "Accompagnement du lancement d'une activité {secteur}.",
        "Étude de faisabilité et business plan, filière {secteur}.", "Formation des équipes et animation de la communauté {secteur}.",
    ]
    static let missionTitles = [
        "Consolidation du modèle économique", "Stratégie foncière et bail", "Gouvernance partagée", "Offre de formation",
        "Aménagement de l'atelier", "Stratégie de communication", "Outils de pilotage", "Évaluation d'impact social",
        "Plan de charge et réservations", "Statuts et pacte d'associés",
    ]
    static let laureatePatterns = [
        "Manufacture de {commune}", "La Fabrique de {commune}", "Atelier partagé de {commune}", "{commune} Lab",
        "Les Ateliers de {commune}", "Tiers-lieu productif de {commune}",
    ]
    static let ruralCommunes = [
        Commune(insee: "26113", name: "Die"), Commune(insee: "34142", name: "Lodève"), Commune(insee: "46102", name: "Figeac"),
        Commune(insee: "12208", name: "Saint-Affrique"), Commune(insee: "87064", name: "Eymoutiers"),
        Commune(insee: "23079", name: "Felletin"),
        Commune(insee: "58079", name: "Clamecy"), Commune(insee: "43051", name: "Le Chambon-sur-Lignon"),
        Commune(insee: "2B096", name: "Corte"),
        Commune(insee: "19272", name: "Tulle"), Commune(insee: "15014", name: "Aurillac"), Commune(insee: "48095", name: "Mende"),
        Commune(insee: "09122", name: "Foix"), Commune(insee: "32013", name: "Auch"),
    ]
    static let qpvCommunes = [
        Commune(insee: "93071", name: "Sevran"), Commune(insee: "93014", name: "Clichy-sous-Bois"),
        Commune(insee: "69256", name: "Vaulx-en-Velin"),
        Commune(insee: "13055", name: "Marseille"), Commune(insee: "91286", name: "Grigny"), Commune(insee: "59512", name: "Roubaix"),
        Commune(insee: "42218", name: "Saint-Étienne"), Commune(insee: "68224", name: "Mulhouse"),
        Commune(insee: "97411", name: "Saint-Denis"),
    ]
    static let townCommunes = [
        Commune(insee: "23096", name: "Guéret"), Commune(insee: "46042", name: "Cahors"), Commune(insee: "12145", name: "Millau"),
        Commune(insee: "71014", name: "Autun"), Commune(insee: "58194", name: "Nevers"), Commune(insee: "18279", name: "Vierzon"),
        Commune(insee: "36044", name: "Châteauroux"), Commune(insee: "40192", name: "Mont-de-Marsan"),
        Commune(insee: "24322", name: "Périgueux"),
        Commune(insee: "79191", name: "Niort"), Commune(insee: "61001", name: "Alençon"), Commune(insee: "14366", name: "Lisieux"),
        Commune(insee: "76217", name: "Dieppe"), Commune(insee: "08409", name: "Sedan"), Commune(insee: "52121", name: "Chaumont"),
        Commune(insee: "39300", name: "Lons-le-Saunier"), Commune(insee: "70550", name: "Vesoul"),
        Commune(insee: "04070", name: "Digne-les-Bains"),
        Commune(insee: "05061", name: "Gap"), Commune(insee: "88160", name: "Épinal"), Commune(insee: "55029", name: "Bar-le-Duc"),
        Commune(insee: "22113", name: "Lannion"), Commune(insee: "29233", name: "Quimperlé"), Commune(insee: "35236", name: "Redon"),
        Commune(insee: "97302", name: "Cayenne"), Commune(insee: "97209", name: "Fort-de-France"),
        Commune(insee: "97120", name: "Pointe-à-Pitre"),
    ]
}
