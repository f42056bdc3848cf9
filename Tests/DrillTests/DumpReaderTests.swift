@testable import Drill
import Testing

/// The independent read of the dump: pg_restore's COPY text, parsed as PostgreSQL writes it.
@Suite struct DumpReaderTests {
    let script = """
        --
        -- Data for Name: users; Type: TABLE DATA; Schema: public; Owner: -
        --

        COPY public.users (id, name, "email", last_login) FROM stdin;
        1\tadmin\tadmin@lab.invalid\t\\N
        2\tbob\\tthe\\\\builder\tbob@lab.invalid\t2026-11-29 01:57:02+00
        \\.

        COPY public.users_archive (id) FROM stdin;
        9
        \\.
        """

    @Test("columns and rows of the named table only; \\N is NULL; backslash escapes are undone")
    func parsesCopyBlock() throws {
        let table = try #require(DumpReader.parse(script, table: "users"))
        #expect(table.columns == ["id", "name", "email", "last_login"])
        #expect(table.rows.count == 2)
        #expect(table.rows[0] == ["1", "admin", "admin@lab.invalid", nil])
        #expect(table.rows[1] == ["2", "bob\tthe\\builder", "bob@lab.invalid", "2026-11-29 01:57:02+00"])
    }

    @Test("a table the dump has no data for is nil, not an empty table")
    func missingTable() {
        #expect(DumpReader.parse(script, table: "share_link") == nil)
        #expect(DumpReader.parse(script, table: "users_archive")?.rows == [["9"]])
    }

    @Test("credential columns are named but never shown in evidence")
    func secretsLeftOut() {
        let text = RecordMatcher.describe(columns: ["id", "password_hash", "token_hash", "name"], row: ["1", "$argon2id$x", "abc", nil])
        #expect(text == "id=1, password_hash=(not shown), token_hash=(not shown), name=NULL")
    }
}
