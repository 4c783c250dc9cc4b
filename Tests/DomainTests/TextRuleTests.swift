import Domain
import Testing

@Suite("Text from outside")
struct TextRuleTests {
    @Test(arguments: [(TextRule.singleLine, 1_000), (.freeText, 20_000)])
    func aFieldHoldsUpToItsBoundCountedInCharacters(_ rule: TextRule, _ bound: Int) {
        // "é" written as e + U+0301 is one character of three bytes: the bound counts what a person sees.
        #expect(rule.error(in: String(repeating: "e\u{301}", count: bound), at: "/x") == nil)
        #expect(rule.error(in: String(repeating: "e\u{301}", count: bound + 1), at: "/x")?.code == "too_long")
        #expect(rule.error(in: String(repeating: "a", count: bound + 1), at: "/x")?.pointer == "/x")
    }

    @Test func aControlCharacterIsNamedAndLineBreaksStayInFreeTextOnly() {
        #expect(TextRule.freeText.error(in: "a\u{0}b", at: "/x")?.detail.contains("U+0000") == true)
        #expect(TextRule.freeText.error(in: "a\r\n\tb", at: "/x") == nil)
        #expect(TextRule.singleLine.error(in: "a\nb", at: "/x")?.code == "control_character")
    }
}

@Suite("Names that read as an erased person's")
struct ReservedNameTests {
    @Test(
        arguments: [
            ("Expert supprimé n°4", true), ("EXPERT SUPPRIME", true), ("expert   supprimé", true), ("Membre-Supprimé 3", true),
            ("ｅｘｐｅｒｔ supprimé", true), ("Claire Martin", false), ("Expert en supply chain", false), ("Membre", false),
        ])
    func aNameThatReadsAsAPseudonymIsReserved(_ name: String, _ reserved: Bool) {
        #expect(Erasure.imitatesPseudonym(name) == reserved, "\(name)")
        #expect(Erasure.imitatesPseudonym(Erasure.pseudonym(role: .expert, number: 12)))
    }
}
