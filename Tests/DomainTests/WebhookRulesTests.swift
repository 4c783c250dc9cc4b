import Domain
import Testing

@Suite("Webhook URLs")
struct WebhookRulesTests {
    @Test(arguments: [
        "https://crm.example.fr/hooks/mdp", "http://127.0.0.1:8080/h", "https://crm.example.fr:8443/a%20b?q=%C3%A9",
        "http://[::1]:9000/x", "http://localhost/x",
    ])
    func aURLARequestCanBeSentToIsTaken(_ url: String) {
        #expect(WebhookRules.isDeliverable(url: url))
    }

    @Test(arguments: [
        "ftp://x.example/", "https://u:p@x.example/h", "http://x.example/h#fragment", "http://x.example/a b", "https:///nohost",
        "http://127.0.0.1:8391/crlf\r\nX-Injected: 1", "https://example.fr:99999/x", "http://127.0.0.1:0/x", "https://exämple.fr/",
        "http://example..fr/", "http://-bad.fr/", "http://exa_mple.fr/", "http://example.fr/%zz", "http://example.fr:/x",
        "http://169.254.169.254/latest/meta-data", "http://[fe80::1]/x", "http://300.1.1.1/", "",
    ])
    func aURLNoRequestCanBeSentToOrAMetadataServiceIsRefused(_ url: String) {
        #expect(!WebhookRules.isDeliverable(url: url))
    }
}
