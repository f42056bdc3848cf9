import Testing
@testable import Restore

@Suite struct RestoreHelpersTests {
    @Test("nearest matches: close names first, far ones left out")
    func suggestions() {
        let sets = ["20261128T010000Z_vault1", "20261129T010000Z_vault1", "20250101T000000Z_other"]
        #expect(Suggestions.nearest("20261129T010000Z_vaul1", among: sets, limit: 2) == ["20261129T010000Z_vault1", "20261128T010000Z_vault1"])
        #expect(Suggestions.nearest("/etc/vaulthalla/config.yml", among: ["/etc/vaulthalla/config.yaml", "/etc/vaulthalla/zz"], limit: 3)
            == ["/etc/vaulthalla/config.yaml"])
        #expect(Suggestions.phrase("x", among: ["something-else-entirely"]) == "")
        #expect(Suggestions.distance(Array("kitten"), Array("sitting")) == 3)
    }

    @Test("a conninfo never carries its password into messages or events")
    func redaction() {
        #expect(FullRestore.redacted("host=/tmp dbname=v password=s3cret user=u") == "host=/tmp dbname=v password=*** user=u")
        #expect(FullRestore.redacted("host=h password = 'a b' dbname=v") == "host=h password=*** dbname=v")
        #expect(FullRestore.redacted("postgresql://u:s3cret@h:5432/v") == "postgresql://u@h:5432/v")
        #expect(!FullRestore.redacted("postgres://u:pw@h/v").contains("pw"))
    }

    @Test("plan commands quote vault names and paths with spaces or quotes")
    func quoting() {
        #expect(shellQuoted("finance") == "finance")
        #expect(shellQuoted("/q3 report.xlsx") == "'/q3 report.xlsx'")
        #expect(shellQuoted("it's") == "'it'\\''s'")
    }
}
