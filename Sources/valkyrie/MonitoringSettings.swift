import Foundation

/// The config's `monitoring:` section: where the metrics text file goes, and when `valkyrie status` calls a
/// backup or drill overdue.
struct MonitoringSettings: Decodable, Sendable {
    /// node_exporter's textfile collector file; "" turns metrics off.
    var textfile: String?
    var backupMaxAgeHours: Double?
    var drillMaxAgeDays: Double?

    enum CodingKeys: String, CodingKey {
        case textfile
        case backupMaxAgeHours = "backup_max_age_hours"
        case drillMaxAgeDays = "drill_max_age_days"
    }

    static let defaultTextfile = "/var/lib/prometheus/node-exporter/valkyrie.prom"

    /// The metrics file, or nil when off. The default path is used only when its folder exists (the collector is
    /// installed); a configured path's folder is created.
    var metricsFile: MetricsFile? {
        if let textfile {
            return textfile.isEmpty ? nil : MetricsFile(path: textfile, createFolder: true)
        }
        let folder = (Self.defaultTextfile as NSString).deletingLastPathComponent
        return FileManager.default.fileExists(atPath: folder) ? MetricsFile(path: Self.defaultTextfile, createFolder: false) : nil
    }

    var backupMaxAge: TimeInterval { (backupMaxAgeHours ?? 26) * 3600 }
    var drillMaxAge: TimeInterval { (drillMaxAgeDays ?? 35) * 86400 }
}
