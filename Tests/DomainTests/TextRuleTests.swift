import Domain
import Testing

@Suite("Text from outside")
struct TextRuleTests {
    @Test(arguments: [(TextRule.singleLine, 1_000), (.freeText, 20_000)])
    func aFieldHoldsUpToItsBoundCountedInCodePoints(_ rule: TextRule, _ bound: Int) {
        #expect(rule.error(in: String(repeating: "é", count: bound), at: "/x") == nil)
        #expect(rule.error(in: String(repeating: "a", count: bound + 1), at: "/x")?.pointer == "/x")
        // Combining marks count: one visible character cannot carry a megabyte (found by an outside tester: a title of
        // one letter and 450 000 accents was accepted).
        #expect(rule.error(in: "Z" + String(repeating: "\u{301}", count: bound), at: "/x")?.code == "too_long")
        #expect(rule.error(in: String(repeating: "e\u{301}", count: bound / 2), at: "/x") == nil)
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
            ("ｅｘｐｅｒｔ supprimé", true), ("Exp\u{AD}ert supprimé", true), ("Expert\u{200B}supprimé", true),
            ("ExpertSupprimé", true), ("\u{200E}Membre supprimée", true), ("Claire Martin", false),
            ("Expert en supply chain", false), ("Membre", false), ("Experte suppléante", false),
        ])
    func aNameThatReadsAsAPseudonymIsReserved(_ name: String, _ reserved: Bool) {
        #expect(Erasure.imitatesPseudonym(name) == reserved, "\(name)")
        #expect(Erasure.imitatesPseudonym(Erasure.pseudonym(role: .expert, number: 12)))
    }
}
