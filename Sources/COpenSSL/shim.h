// OpenSSL 3 macros do not import into Swift; each is wrapped in a one-line static inline function.
#ifndef DONGFENG_COPENSSL_SHIM_H
#define DONGFENG_COPENSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/rand.h>
#include <string.h>

static inline long dfo_ctx_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
static inline void dfo_ctx_set_read_ahead(SSL_CTX *ctx, int yes) { SSL_CTX_set_read_ahead(ctx, yes); }
static inline int dfo_ctx_set_min_proto(SSL_CTX *ctx, int v) { return (int)SSL_CTX_set_min_proto_version(ctx, v); }
static inline int dfo_ctx_set_max_proto(SSL_CTX *ctx, int v) { return (int)SSL_CTX_set_max_proto_version(ctx, v); }
static inline int dfo_ctx_set1_groups_list(SSL_CTX *ctx, const char *list) { return (int)SSL_CTX_set1_groups_list(ctx, list); }
static inline long dfo_ctx_set_session_cache_mode(SSL_CTX *ctx, long m) { return SSL_CTX_set_session_cache_mode(ctx, m); }
static inline int dfo_set_tlsext_host_name(SSL *ssl, const char *name) { return (int)SSL_set_tlsext_host_name(ssl, name); }
static inline long dfo_bio_get_mem_data(BIO *bio, char **out) { return BIO_get_mem_data(bio, out); }
static inline void dfo_openssl_free(void *p) { OPENSSL_free(p); }
static inline EVP_PKEY *dfo_evp_ec_gen(const char *curve) { return EVP_EC_gen(curve); }
static inline ASN1_TIME *dfo_x509_not_before(X509 *x) { return X509_getm_notBefore(x); }
static inline ASN1_TIME *dfo_x509_not_after(X509 *x) { return X509_getm_notAfter(x); }

static inline int dfo_ctx_set_alpn_http11(SSL_CTX *ctx) {
    static const unsigned char protos[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
    return SSL_CTX_set_alpn_protos(ctx, protos, sizeof protos);
}
static inline int dfo_set1_host(SSL *ssl, const char *name) { return SSL_set1_host(ssl, name); }
static inline int dfo_tls1_2_version(void) { return TLS1_2_VERSION; }
static inline int dfo_tls1_3_version(void) { return TLS1_3_VERSION; }
static inline int dfo_tls1_version(void) { return TLS1_VERSION; }
static inline int dfo_tls1_1_version(void) { return TLS1_1_VERSION; }
static inline long dfo_mode_release_buffers(void) { return SSL_MODE_RELEASE_BUFFERS; }
static inline long dfo_mode_partial_write(void) { return SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER; }
static inline long dfo_sess_cache_server(void) { return SSL_SESS_CACHE_SERVER; }
static inline uint64_t dfo_op_no_ticket(void) { return SSL_OP_NO_TICKET; }
static inline int dfo_filetype_pem(void) { return SSL_FILETYPE_PEM; }

/// Options every server context gets: no compression (CRIME), no renegotiation, server cipher
/// order, no legacy protocols, fresh ECDHE key per handshake.
static inline uint64_t dfo_server_options(void) {
    return SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE
         | SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1
         | SSL_OP_SINGLE_ECDH_USE;
}

/// ALPN: the server speaks only http/1.1. A client that offers ALPN without it is refused
/// (RFC 7301 §3.2: no_application_protocol); a client that offers no ALPN is accepted.
static int dfo_alpn_select_http11(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                                  const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl; (void)arg;
    static const unsigned char proto[] = { 8, 'h','t','t','p','/','1','.','1' };
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, outlen, proto, sizeof(proto), in, inlen) == OPENSSL_NPN_NEGOTIATED) {
        *out = selected;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}
static inline void dfo_ctx_use_alpn_http11(SSL_CTX *ctx) {
    SSL_CTX_set_alpn_select_cb(ctx, dfo_alpn_select_http11, NULL);
}

/// Adds an X509v3 extension by NID with a config-style value ("DNS:localhost,IP:127.0.0.1").
static inline int dfo_x509_add_ext(X509 *cert, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext) return 0;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/// The oldest error on this thread's OpenSSL queue as text (and clears the queue).
static inline void dfo_last_error(char *buf, size_t len) {
    unsigned long e = ERR_get_error();
    if (e == 0) { if (len) buf[0] = 0; } else { ERR_error_string_n(e, buf, len); }
    ERR_clear_error();
}

#endif
