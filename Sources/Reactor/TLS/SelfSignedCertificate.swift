import COpenSSL
import Glibc

/// A development certificate: ECDSA P-256, self-signed, valid for localhost, 127.0.0.1 and ::1.
///
/// Generated in-process with OpenSSL (no `openssl` command needed) so that the first run of the
/// server has HTTPS with nothing to set up. The key file is created with mode 0600.
public enum SelfSignedCertificate {
    public struct Files: Sendable, Equatable {
        public let certificate: String
        public let privateKey: String
        /// SHA-256 fingerprint of the certificate, "AB:CD:...".
        public let fingerprint: String
    }

    public static let certificateFileName = "dev-cert.pem"
    public static let privateKeyFileName = "dev-key.pem"

    /// Generates a certificate and key into `directory` (created if missing), replacing any
    /// existing pair there. `validDays` counts from one hour ago (clock skew).
    public static func generate(in directory: String, commonName: String = "localhost",
                                validDays: Int = 365) throws(ReactorError) -> Files {
        try makeDirectory(directory)
        guard let key = dfo_evp_ec_gen("P-256") else { throw ReactorError.tls("EC key generation failed: \(TLSContext.lastError())") }
        defer { EVP_PKEY_free(key) }
        guard let cert = X509_new() else { throw ReactorError.tls("X509_new failed") }
        defer { X509_free(cert) }

        X509_set_version(cert, 2)  // v3
        var serial: UInt64 = 0
        withUnsafeMutableBytes(of: &serial) { _ = RAND_bytes($0.baseAddress!.assumingMemoryBound(to: UInt8.self), 8) }
        ASN1_INTEGER_set(X509_get_serialNumber(cert), Int(serial >> 2))  // positive, non-zero in practice
        X509_gmtime_adj(dfo_x509_not_before(cert), -3600)
        X509_gmtime_adj(dfo_x509_not_after(cert), validDays * 86_400)
        X509_set_pubkey(cert, key)

        let name = X509_get_subject_name(cert)
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, "Dongfeng development", -1, -1, 0)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0)
        X509_set_issuer_name(cert, name)

        let extensions: [(Int32, String)] = [
            (NID_basic_constraints, "critical,CA:TRUE"),
            (NID_key_usage, "critical,digitalSignature,keyCertSign"),
            (NID_ext_key_usage, "serverAuth"),
            (NID_subject_key_identifier, "hash"),
            (NID_subject_alt_name, "DNS:\(commonName),IP:127.0.0.1,IP:::1"),
        ]
        for (nid, value) in extensions where dfo_x509_add_ext(cert, nid, value) != 1 {
            throw ReactorError.tls("cannot add extension \(nid): \(TLSContext.lastError())")
        }
        guard X509_sign(cert, key, EVP_sha256()) > 0 else { throw ReactorError.tls("X509_sign failed: \(TLSContext.lastError())") }

        let keyPEM = try pem { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
        let certPEM = try pem { PEM_write_bio_X509($0, cert) }
        let keyPath = directory + "/" + privateKeyFileName
        let certPath = directory + "/" + certificateFileName
        try writeFile(keyPath, keyPEM, mode: 0o600)
        try writeFile(certPath, certPEM, mode: 0o644)
        return Files(certificate: certPath, privateKey: keyPath, fingerprint: sha256Fingerprint(cert))
    }

    /// The pair previously generated in `directory`, if both files exist.
    public static func existing(in directory: String) -> (certificate: String, privateKey: String)? {
        let cert = directory + "/" + certificateFileName
        let key = directory + "/" + privateKeyFileName
        return access(cert, R_OK) == 0 && access(key, R_OK) == 0 ? (cert, key) : nil
    }

    static func sha256Fingerprint(_ cert: OpaquePointer) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = digest.withUnsafeMutableBufferPointer { X509_digest(cert, EVP_sha256(), $0.baseAddress, &length) }
        let hex: [Character] = Array("0123456789ABCDEF")
        return digest.prefix(Int(length)).map { String([hex[Int($0 >> 4)], hex[Int($0 & 15)]]) }
            .joined(separator: ":")
    }

    private static func pem(_ body: (OpaquePointer) -> Int32) throws(ReactorError) -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { throw ReactorError.tls("BIO_new failed") }
        defer { BIO_free(bio) }
        guard body(bio) == 1 else { throw ReactorError.tls("PEM encoding failed: \(TLSContext.lastError())") }
        var data: UnsafeMutablePointer<CChar>?
        let length = dfo_bio_get_mem_data(bio, &data)
        guard let data, length > 0 else { throw ReactorError.tls("empty PEM output") }
        return Array(UnsafeRawBufferPointer(start: data, count: length))
    }

    private static func makeDirectory(_ path: String) throws(ReactorError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw ReactorError.system("mkdir \(current)", errno) }
        }
    }

    private static func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(ReactorError) {
        let temp = path + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ReactorError.system("open \(temp)", errno) }
        fchmod(fd, mode)  // the umask must not widen or narrow what we asked for
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let err = errno
        close(fd)
        guard written == bytes.count else { throw ReactorError.system("write \(temp)", err) }
        guard rename(temp, path) == 0 else { throw ReactorError.system("rename \(path)", errno) }
    }
}
