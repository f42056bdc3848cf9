import Foundation

/// How Vaulthalla reaches its TPM, chosen as the daemon chooses: a TCTI from the environment, then a device,
/// then swtpm on 127.0.0.1:2321.
public enum TPMMode: Sendable, Equatable, Codable {
    /// `VH_TPM_TCTI`, `TSS2_TCTI` or `TPM2TOOLS_TCTI`, first set one wins.
    case environment(variable: String, tcti: String)
    /// `/dev/tpmrm0` or `/dev/tpm0`: a hardware TPM; nothing sealed survives replacing the host.
    case device(path: String)
    /// The software TPM whose state lives in `/var/lib/swtpm/vaulthalla`.
    case swtpm(tcti: String)

    public static let environmentVariables = ["VH_TPM_TCTI", "TSS2_TCTI", "TPM2TOOLS_TCTI"]
    public static let devices = ["/dev/tpmrm0", "/dev/tpm0"]
    public static let defaultSwtpmTCTI = "swtpm:host=127.0.0.1,port=\(Defaults.swtpmPort)"

    public static func select(environment: [String: String] = ProcessInfo.processInfo.environment,
                              deviceExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }) -> TPMMode {
        for variable in environmentVariables {
            if let tcti = environment[variable], !tcti.isEmpty { return .environment(variable: variable, tcti: tcti) }
        }
        if let device = devices.first(where: deviceExists) { return .device(path: device) }
        return .swtpm(tcti: defaultSwtpmTCTI)
    }

    /// The TCTI string to open.
    public var tcti: String {
        switch self {
        case .environment(_, let tcti), .swtpm(let tcti): tcti
        case .device(let path): "device:\(path)"
        }
    }

    /// Whether sealed blobs can be unsealed on another machine given the TPM state (swtpm, or a TCTI naming swtpm).
    public var isSoftware: Bool {
        switch self {
        case .swtpm: true
        case .environment(_, let tcti): tcti.hasPrefix("swtpm") || tcti.hasPrefix("mssim")
        case .device: false
        }
    }
}
