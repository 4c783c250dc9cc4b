import Domain
import Testing

@Suite("Validation of what people type")
struct ValidationTests {
    @Test(arguments: ["73282932000074", "732 829 320 00074", "44306184100047", "13002526500013", "35600000049837"])
    func validSiretsAreAccepted(_ siret: String) {
        #expect(Siret.isValid(siret))
    }

    @Test(arguments: ["73282932000075", "12345678901234", "7328293200007", "732829320000741", "7328293200007A", "", "73282932000074 x"])
    func invalidSiretsAreRefused(_ siret: String) {
        #expect(!Siret.isValid(siret))
    }

    @Test func emailsAreCheckedPragmatically() {
        #expect(Contact.isValidEmail("claire.martin@atelier-bois.fr"))
        #expect(Contact.isValidEmail("c+mdp@exemple.coop"))
        for bad in ["", "claire", "claire@", "@exemple.fr", "claire@exemple", "cl aire@exemple.fr", "a@@b.fr", "a@b..fr", "a@-b.fr"] {
            #expect(!Contact.isValidEmail(bad), "\(bad)")
        }
    }

    @Test func websitesAreHttpOrHttpsWithAHost() {
        #expect(Contact.isValidWebURL("https://francetierslieux.fr/annuaire"))
        #expect(Contact.isValidWebURL("http://exemple.fr:8080"))
        for bad in ["ftp://exemple.fr", "https://", "exemple.fr", "https://exemple", "javascript:alert(1)", "https://ex ample.fr"] {
            #expect(!Contact.isValidWebURL(bad), "\(bad)")
        }
    }

    @Test func frenchPhoneNumbersAreNormalised() {
        #expect(Contact.normalisedFrenchPhone("06 12 34 56 78") == "+33612345678")
        #expect(Contact.normalisedFrenchPhone("01.23.45.67.89") == "+33123456789")
        #expect(Contact.normalisedFrenchPhone("+33 (0)6 12 34 56 78") == "+33612345678")
        #expect(Contact.normalisedFrenchPhone("0033612345678") == "+33612345678")
        #expect(Contact.normalisedFrenchPhone("+262 692 12 34 56") == "+262692123456")
        for bad in ["", "0612", "06 12 34 56 78 9", "00 12 34 56 78", "+44 20 7946 0958", "06-12-34-56-7a"] {
            #expect(!Contact.isValidFrenchPhone(bad), "\(bad)")
        }
    }

    @Test func jsonPointersEscapeTildeAndSlash() {
        #expect(jsonPointer(["experiences", 0, "a/b~c"]) == "/experiences/0/a~1b~0c")
    }

    @Test func htmlEscapingShowsTextVerbatimInAnElementOrAnAttribute() {
        #expect(#"<a href="x" title='y'>L&M</a>"#.htmlEscaped == "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;L&amp;M&lt;/a&gt;")
        #expect("Équipe de l’atelier".htmlEscaped == "Équipe de l’atelier")
    }
}
