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

    /// A receiver on the public internet always; the machine, private networks and unique-local IPv6 only where the
    /// installation allows them; link-local (cloud metadata), multicast and unspecified addresses never, IPv4 carried
    /// in IPv6 judged as the IPv4 address it is.
    @Test(
        arguments: [
            ([93, 184, 216, 34], true, true), ([8, 8, 8, 8], true, true), ([127, 0, 0, 1], false, true), ([10, 1, 2, 3], false, true),
            ([172, 16, 0, 1], false, true), ([172, 32, 0, 1], true, true), ([192, 168, 1, 1], false, true), ([100, 64, 0, 1], false, true),
            ([169, 254, 169, 254], false, false), ([0, 0, 0, 0], false, false), ([224, 0, 0, 1], false, false),
            ([255, 255, 255, 255], false, false),
            ([0x20, 0x01, 0x0D, 0xB8] + Array(repeating: 0, count: 11) + [1], true, true),
            (Array(repeating: 0, count: 15) + [1], false, true), (Array(repeating: 0, count: 16), false, false),
            ([0xFD, 0x12] + Array(repeating: 0, count: 13) + [1], false, true),
            ([0xFE, 0x80] + Array(repeating: 0, count: 14), false, false),
            ([0xFF, 0x02] + Array(repeating: 0, count: 13) + [1], false, false),
            (Array(repeating: 0, count: 10) + [0xFF, 0xFF, 127, 0, 0, 1], false, true),
            (Array(repeating: 0, count: 10) + [0xFF, 0xFF, 169, 254, 169, 254], false, false),
            ([0, 0x64, 0xFF, 0x9B] + Array(repeating: 0, count: 8) + [10, 0, 0, 1], false, true), ([1, 2, 3], false, false),
        ] as [([UInt8], Bool, Bool)])
    func aWebhookGoesToThePublicInternetAndToPrivateNetworksOnlyWhereAllowed(_ address: [UInt8], _ refusing: Bool, _ allowing: Bool) {
        #expect(WebhookRules.mayDeliver(to: address, allowPrivateNetworks: false) == refusing, "\(address)")
        #expect(WebhookRules.mayDeliver(to: address, allowPrivateNetworks: true) == allowing, "\(address)")
    }
}
