/// Names real users give things: Unicode, spaces, apostrophes, emoji.
enum Names {
    static let words = [
        "Finance", "Überweisungen", "résumé", "naïve café", "日本語のメモ", "Quarterly report", "🎉 party",
        "Ærøskøbing", "Привет мир", "notes", "photos", "backup plan", "años", "Zürich office", "İstanbul",
        "draft v2", "O'Brien letters", "invoices", "scans", "ελληνικά", "misc", "Tax 2026",
    ]
    static let extensions: [(ext: String, mime: String)] = [
        ("txt", "text/plain"), ("pdf", "application/pdf"), ("jpg", "image/jpeg"), ("md", "text/markdown"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), ("png", "image/png"),
        ("csv", "text/csv"), ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ]
    static let users = ["admin", "alice", "bob", "chloé", "dmitri", "eve", "fatima", "günter", "hiro", "ines"]
    static let localVaults = ["finance", "Team Ünterlagen", "photos", "research", "legal", "archive", "media", "ops"]
    static let s3Vaults = ["offsite r2", "cloud-backup"]
    static let deletedVault = "old projects"

    static func mime(forName name: String) -> String {
        let ext = name.split(separator: ".").last.map(String.init) ?? ""
        return extensions.first { $0.ext == ext }?.mime ?? "application/octet-stream"
    }
}
