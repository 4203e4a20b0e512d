import ArgumentParser
import Reactor

struct GenCert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen-cert",
        abstract: "Generate a self-signed ECDSA P-256 development certificate for localhost, 127.0.0.1 and ::1.",
        discussion: "Writes dev-cert.pem and dev-key.pem (mode 0600) into the directory, replacing an existing pair, and prints the SHA-256 fingerprint. Trust it with `curl --cacert DIR/dev-cert.pem`."
    )

    @Option(help: "Directory for the certificate and key.")
    var out = "certs"

    @Option(help: "Days of validity.")
    var days = 365

    func validate() throws {
        guard (1...3650).contains(days) else { throw ValidationError("--days must be between 1 and 3650") }
    }

    func run() throws {
        do {
            let files = try SelfSignedCertificate.generate(in: out, validDays: days)
            print("certificate: \(files.certificate)")
            print("private key: \(files.privateKey) (mode 0600)")
            print("SHA-256 fingerprint: \(files.fingerprint)")
        } catch {
            print("dongfeng gen-cert: \(error)")
            throw ExitCode(1)
        }
    }
}
