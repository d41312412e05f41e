#include "web_config.h"

#include "errors.h"
#include "text_file.h"

#include <crypt.h>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace corescope {

namespace {

struct Line {
    size_t number = 0;
    size_t indent = 0;
    std::string key;
    std::optional<std::string> value; // none: "key:" alone (a mapping follows, or null)
};

[[noreturn]] void fail(size_t line, const std::string& why) {
    throw UsageError("line " + std::to_string(line) + ": " + why);
}

// A quoted or plain scalar starting at text; the rest (spaces, a comment)
// must be empty. Plain scalars end at " #"; "null", "~" and nothing are null.
std::optional<std::string> scalar(std::string_view text, size_t line) {
    while (!text.empty() && text.front() == ' ')
        text.remove_prefix(1);
    std::string out;
    size_t end = 0;
    if (!text.empty() && text.front() == '\'') {
        size_t i = 1;
        for (;; i++) {
            if (i >= text.size()) fail(line, "a single-quoted value does not end on its line");
            if (text[i] == '\'') {
                if (i + 1 < text.size() && text[i + 1] == '\'') {
                    out += '\'';
                    i++;
                    continue;
                }
                break;
            }
            out += text[i];
        }
        end = i + 1;
    } else if (!text.empty() && text.front() == '"') {
        size_t i = 1;
        for (;; i++) {
            if (i >= text.size()) fail(line, "a double-quoted value does not end on its line");
            char c = text[i];
            if (c == '"') break;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (++i >= text.size()) fail(line, "a double-quoted value does not end on its line");
            switch (text[i]) {
            case '\\':
            case '"':
            case '/':
                out += text[i];
                break;
            case 'n':
                out += '\n';
                break;
            case 't':
                out += '\t';
                break;
            default:
                fail(line, std::string("the escape \\") + text[i] + " is not supported here");
            }
        }
        end = i + 1;
    } else {
        size_t comment = std::string_view::npos;
        for (size_t i = 0; i < text.size(); i++)
            if (text[i] == '#' && (i == 0 || text[i - 1] == ' ')) {
                comment = i;
                break;
            }
        std::string_view plain = text.substr(0, comment);
        while (!plain.empty() && plain.back() == ' ')
            plain.remove_suffix(1);
        if (plain.empty() || plain == "~" || plain == "null" || plain == "Null" || plain == "NULL")
            return std::nullopt;
        if (std::string_view("[{&*!|>@`%,?-\"'").find(plain.front()) != std::string_view::npos &&
            !(plain.front() == '-' && plain.size() > 1 && plain[1] != ' '))
            fail(line, "YAML beyond plain and quoted scalars (flow collections, anchors, tags, "
                       "block scalars, lists) is not supported here");
        if (plain.find(": ") != std::string_view::npos || plain.back() == ':')
            fail(line, "a value may not hold ': ' unquoted");
        return std::string(plain);
    }
    std::string_view rest = text.substr(end);
    while (!rest.empty() && rest.front() == ' ')
        rest.remove_prefix(1);
    if (!rest.empty() && rest.front() != '#') fail(line, "text after a quoted value");
    return out;
}

// "key: value", "key:", with the key plain or quoted.
Line parse_line(std::string_view text, size_t number) {
    Line l;
    l.number = number;
    while (l.indent < text.size() && text[l.indent] == ' ')
        l.indent++;
    text.remove_prefix(l.indent);
    size_t colon;
    if (!text.empty() && (text.front() == '"' || text.front() == '\'')) {
        char q = text.front();
        size_t close = text.find(q, 1);
        if (close == std::string_view::npos) fail(number, "a quoted key does not end");
        l.key = std::string(text.substr(1, close - 1));
        colon = close + 1;
        if (colon >= text.size() || text[colon] != ':') fail(number, "no ':' after the key");
    } else {
        colon = text.find(':');
        while (colon != std::string_view::npos && colon + 1 < text.size() && text[colon + 1] != ' ')
            colon = text.find(':', colon + 1);
        if (colon == std::string_view::npos) fail(number, "not 'key: value'");
        l.key = std::string(text.substr(0, colon));
        if (l.key.empty() || l.key.find_first_of("#{}[]&*!|>'\"%@`") != std::string::npos ||
            l.key.front() == '-' || l.key.front() == '?')
            fail(number, "not a plain key: '" + l.key + "'");
        while (!l.key.empty() && l.key.back() == ' ')
            l.key.pop_back();
    }
    l.value = scalar(text.substr(colon + 1), number);
    return l;
}

const std::set<std::string_view> tls_unsupported = {"cert",
                                                    "key",
                                                    "client_auth_type",
                                                    "client_ca_file",
                                                    "client_ca",
                                                    "cipher_suites",
                                                    "curve_preferences",
                                                    "prefer_server_cipher_suites",
                                                    "client_allowed_sans"};

std::string tls_version(const Line& l) {
    static const std::set<std::string_view> known = {"TLS10", "TLS11", "TLS12", "TLS13"};
    if (!l.value || !known.count(*l.value))
        fail(l.number, l.key + ": not one of TLS10, TLS11, TLS12, TLS13");
    return *l.value;
}

} // namespace

WebConfig parse_web_config(std::string_view text) {
    std::vector<Line> lines;
    size_t number = 0;
    bool content = false;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view raw = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        number++;
        if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
        if (raw.find('\t') != std::string_view::npos &&
            raw.find_first_not_of(' ') != std::string_view::npos &&
            raw[raw.find_first_not_of(' ')] == '\t')
            fail(number, "a tab in the indentation (YAML indents with spaces)");
        size_t first = raw.find_first_not_of(' ');
        if (first == std::string_view::npos || raw[first] == '#') continue;
        if (raw == "---" && !content) continue;
        if (raw == "---" || raw == "...") fail(number, "one document only");
        if (std::memchr(raw.data(), '\0', raw.size())) fail(number, "a NUL byte");
        content = true;
        lines.push_back(parse_line(raw, number));
    }

    WebConfig config;
    std::set<std::string> top_seen;
    for (size_t i = 0; i < lines.size();) {
        const Line& top = lines[i];
        if (top.indent != 0) fail(top.number, "indented more than the key before it");
        if (!top_seen.insert(top.key).second) fail(top.number, "'" + top.key + "' given twice");
        bool tls = top.key == "tls_server_config";
        bool users = top.key == "basic_auth_users";
        if (!tls && !users) {
            if (top.key == "http_server_config")
                fail(top.number, "http_server_config is not supported by corescope export");
            fail(top.number,
                 "unknown key '" + top.key + "' (known: tls_server_config, basic_auth_users)");
        }
        i++;
        size_t child_indent = 0;
        std::set<std::string> seen;
        for (; i < lines.size() && lines[i].indent > 0; i++) {
            const Line& l = lines[i];
            if (top.value) fail(l.number, "'" + top.key + "' has a value and a mapping");
            if (child_indent == 0) child_indent = l.indent;
            if (l.indent != child_indent)
                fail(l.number, "indented unlike the keys before it (nested deeper than "
                               "tls_server_config's or basic_auth_users' own keys?)");
            if (!seen.insert(l.key).second) fail(l.number, "'" + l.key + "' given twice");
            if (users) {
                if (l.key.empty()) fail(l.number, "an empty user name");
                if (!l.value || l.value->empty())
                    fail(l.number, "user '" + l.key + "' has no password hash");
                config.users[l.key] = *l.value;
                continue;
            }
            if (l.key == "cert_file" || l.key == "key_file") {
                if (!l.value || l.value->empty()) fail(l.number, l.key + " is empty");
                (l.key == "cert_file" ? config.cert_file : config.key_file) = *l.value;
            } else if (l.key == "min_version") {
                config.min_version = tls_version(l);
            } else if (l.key == "max_version") {
                config.max_version = tls_version(l);
            } else if (tls_unsupported.count(l.key)) {
                fail(l.number,
                     "tls_server_config: " + l.key + " is not supported by corescope export");
            } else {
                fail(l.number, "tls_server_config: unknown key '" + l.key +
                                   "' (known: cert_file, key_file, min_version, max_version)");
            }
        }
        if (top.value && !top.value->empty())
            fail(top.number, "'" + top.key + "' must be a mapping, not a value");
        if (tls && !top.value) {
            if (config.cert_file.empty() && config.key_file.empty())
                fail(top.number, "tls_server_config: needs cert_file and key_file");
            if (config.cert_file.empty()) fail(top.number, "tls_server_config: missing cert_file");
            if (config.key_file.empty()) fail(top.number, "tls_server_config: missing key_file");
        }
    }
    if (!config.min_version.empty() && !config.max_version.empty() &&
        config.min_version > config.max_version)
        throw UsageError("tls_server_config: min_version is above max_version");
    return config;
}

WebConfig read_web_config(const std::string& path) {
    std::optional<std::string> text = read_text_file(path);
    if (!text) throw UsageError("--web.config.file: cannot read '" + path + "'");
    WebConfig config;
    try {
        config = parse_web_config(*text);
    } catch (const UsageError& e) {
        throw UsageError("--web.config.file " + path + ": " + e.what());
    }
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
    for (std::string* file : {&config.cert_file, &config.key_file})
        if (!file->empty() && file->front() != '/') *file = dir + *file;
    return config;
}

bool parse_basic_authorization(std::string_view value, std::string& user, std::string& password) {
    while (!value.empty() && value.front() == ' ')
        value.remove_prefix(1);
    if (value.size() < 6 || strncasecmp(value.data(), "basic ", 6) != 0) return false;
    value.remove_prefix(6);
    while (!value.empty() && value.front() == ' ')
        value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ')
        value.remove_suffix(1);
    std::string decoded;
    uint32_t bits = 0;
    int have = 0;
    size_t padding = 0;
    for (char c : value) {
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else if (c == '=') {
            padding++;
            continue;
        } else
            return false;
        if (padding) return false; // data after '='
        bits = (bits << 6) | static_cast<uint32_t>(v);
        have += 6;
        if (have >= 8) {
            have -= 8;
            decoded += static_cast<char>((bits >> have) & 0xff);
        }
    }
    if (padding > 2 || (value.size() % 4) != 0) return false;
    size_t colon = decoded.find(':');
    if (colon == std::string::npos) return false;
    user = decoded.substr(0, colon);
    password = decoded.substr(colon + 1);
    return true;
}

bool bcrypt_matches(const std::string& password, const std::string& hash) {
    if (!(hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$")))
        return false;
    auto data = std::make_unique<crypt_data>();
    const char* out = crypt_r(password.c_str(), hash.c_str(), data.get());
    if (!out || out[0] == '*') return false;
    size_t n = std::strlen(out);
    if (n != hash.size()) return false;
    unsigned char diff = 0; // in constant time
    for (size_t i = 0; i < n; i++)
        diff |= static_cast<unsigned char>(out[i] ^ hash[i]);
    return diff == 0;
}

} // namespace corescope
