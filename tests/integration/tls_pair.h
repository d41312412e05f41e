// TLS traffic of the tests' own (sslsniff): a throwaway self-signed key and
// certificate made in memory, and a client and server joined in memory.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string>

namespace itest {

// A P-256 key and a self-signed certificate for it, valid for an hour.
struct TlsCredentials {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    TlsCredentials() {
        key = EVP_EC_gen("P-256");
        cert = X509_new();
        if (!key || !cert) return;
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), 0);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_set_pubkey(cert, key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("corescope-test"), -1, -1,
                                   0);
        X509_set_issuer_name(cert, name);
        if (X509_sign(cert, key, EVP_sha256()) <= 0) {
            X509_free(cert);
            cert = nullptr;
        }
    }
    ~TlsCredentials() {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    TlsCredentials(const TlsCredentials&) = delete;
    TlsCredentials& operator=(const TlsCredentials&) = delete;
    bool ok() const { return key && cert; }
};

// A server context with creds, or nullptr.
inline SSL_CTX* tls_server_context(const TlsCredentials& creds) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (ctx && (SSL_CTX_use_certificate(ctx, creds.cert) != 1 ||
                SSL_CTX_use_PrivateKey(ctx, creds.key) != 1)) {
        SSL_CTX_free(ctx);
        return nullptr;
    }
    return ctx;
}

// In this thread, a client and a server joined by a BIO pair: handshake,
// then the client writes payload with SSL_write and the server reads it
// with SSL_read. True when the server read payload exactly.
inline bool tls_in_memory(const std::string& payload) {
    TlsCredentials creds;
    if (!creds.ok()) return false;
    SSL_CTX* sctx = tls_server_context(creds);
    SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
    bool ok = false;
    if (sctx && cctx) {
        SSL* server = SSL_new(sctx);
        SSL* client = SSL_new(cctx);
        BIO *client_end = nullptr, *server_end = nullptr;
        BIO_new_bio_pair(&client_end, 0, &server_end, 0);
        SSL_set_bio(client, client_end, client_end);
        SSL_set_bio(server, server_end, server_end);
        SSL_set_connect_state(client);
        SSL_set_accept_state(server);
        for (int i = 0; i < 20 && !(SSL_is_init_finished(client) && SSL_is_init_finished(server));
             i++) {
            SSL_do_handshake(client);
            SSL_do_handshake(server);
        }
        char buf[4096];
        ok = SSL_is_init_finished(client) && SSL_is_init_finished(server) &&
             SSL_write(client, payload.data(), int(payload.size())) == int(payload.size()) &&
             SSL_read(server, buf, int(sizeof buf)) == int(payload.size()) &&
             std::string(buf, payload.size()) == payload;
        SSL_free(client);
        SSL_free(server);
    }
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    return ok;
}

} // namespace itest
