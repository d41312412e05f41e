// corescope export's --web.config.file parser (frontend/web_config.h) and
// the basic authentication header with arbitrary bytes: the parser returns
// a configuration or refuses with a UsageError, nothing else; what it
// returns, written back as YAML with every key and value single-quoted,
// parses to the same configuration.
#include "checks.h"
#include "errors.h"
#include "web_config.h"

#include <string>

namespace {

std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s)
        out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

bool line_safe(const std::string& s) {
    return s.find_first_of(std::string("\n\r\0", 3)) == std::string::npos;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::string user, password;
    (void)corescope::parse_basic_authorization(input, user, password);

    corescope::WebConfig config;
    try {
        config = corescope::parse_web_config(input);
    } catch (const corescope::UsageError&) {
        return 0;
    }
    if (config.cert_file.empty() != config.key_file.empty())
        fuzz::fail("cert_file without key_file, or the reverse", input);
    std::string yaml;
    bool writable = line_safe(config.cert_file) && line_safe(config.key_file);
    if (config.tls()) {
        yaml += "tls_server_config:\n  cert_file: " + quoted(config.cert_file) +
                "\n  key_file: " + quoted(config.key_file) + "\n";
        if (!config.min_version.empty()) yaml += "  min_version: " + config.min_version + "\n";
        if (!config.max_version.empty()) yaml += "  max_version: " + config.max_version + "\n";
    }
    if (!config.users.empty()) yaml += "basic_auth_users:\n";
    for (const auto& [name, hash] : config.users) {
        writable = writable && line_safe(name) && line_safe(hash);
        yaml += "  " + quoted(name) + ": " + quoted(hash) + "\n";
    }
    if (!writable) return 0;
    corescope::WebConfig again;
    try {
        again = corescope::parse_web_config(yaml);
    } catch (const corescope::UsageError&) {
        fuzz::fail("a parsed configuration, written back, is refused", yaml);
    }
    if (again.cert_file != config.cert_file || again.key_file != config.key_file ||
        again.min_version != config.min_version || again.max_version != config.max_version ||
        again.users != config.users)
        fuzz::fail("a parsed configuration, written back, parses differently", yaml);
    return 0;
}
