// corescope export's --web.config.file, as Prometheus's exporter-toolkit
// reads it: TLS (tls_server_config: cert_file, key_file, min_version,
// max_version) and basic authentication (basic_auth_users: name to bcrypt
// hash). The file is YAML; this reads the subset such a file uses (block
// mappings two levels deep, plain and quoted scalars, comments) and refuses
// anything else, unknown keys included, as `promtool check web-config`
// does, with the line. The parser reads an operator's file, not the
// network, but has a fuzz target all the same (tests/fuzz/fuzz_web_config).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace corescope {

struct WebConfig {
    std::string cert_file;                    // PEM, the chain after the certificate
    std::string key_file;                     // PEM
    std::string min_version;                  // "TLS12" (the default), "TLS13"
    std::string max_version;                  // "TLS13" (the default), "TLS12"
    std::map<std::string, std::string> users; // name: bcrypt hash ($2a$, $2b$, $2y$)
    bool tls() const { return !cert_file.empty(); }
};

// The configuration in text; UsageError ("line N: ...") when it is not one.
// Relative file names stay as they are (resolve_web_config_paths).
WebConfig parse_web_config(std::string_view text);

// The file at path, parsed, its cert_file and key_file taken relative to
// the file's directory (as exporter-toolkit does); UsageError naming path.
WebConfig read_web_config(const std::string& path);

// The user name and password of an "Authorization: Basic ..." header value;
// false when it is not one.
bool parse_basic_authorization(std::string_view value, std::string& user, std::string& password);

// Whether password matches a bcrypt hash (libxcrypt's crypt_r: $2a$, $2b$,
// $2y$); false for a hash that is not bcrypt.
bool bcrypt_matches(const std::string& password, const std::string& hash);

} // namespace corescope
