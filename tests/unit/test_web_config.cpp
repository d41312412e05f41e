// corescope export's --web.config.file (frontend/web_config.h): the YAML
// subset exporter-toolkit's files use, unknown keys refused as `promtool
// check web-config` refuses them, basic authentication's header and
// bcrypt hashes.
#include "web_config.h"

#include "errors.h"

#include <catch2/catch.hpp>

#include <string>

namespace test_web_config {

using namespace corescope;

// The UsageError's message, or "" when text parses.
std::string refusal(const std::string& text) {
    try {
        parse_web_config(text);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "";
}

TEST_CASE("web config: TLS and users, as exporter-toolkit's documentation writes them",
          "[web_config]") {
    WebConfig c = parse_web_config(
        "---\n"
        "# TLS\n"
        "tls_server_config:\n"
        "  cert_file: server.crt   # PEM\n"
        "  key_file: \"/etc/corescope/server.key\"\n"
        "  min_version: TLS13\n"
        "\n"
        "basic_auth_users:\n"
        "    prometheus: $2y$10$abcdefghijklmnopqrstuu5t7W6ydhwJlTeLDy3PtQ8bSk1JqJ0mW\n"
        "    'other user': '$2b$04$x''y'\n");
    CHECK(c.tls());
    CHECK(c.cert_file == "server.crt");
    CHECK(c.key_file == "/etc/corescope/server.key");
    CHECK(c.min_version == "TLS13");
    CHECK(c.max_version.empty());
    REQUIRE(c.users.size() == 2);
    CHECK(c.users.at("prometheus") ==
          "$2y$10$abcdefghijklmnopqrstuu5t7W6ydhwJlTeLDy3PtQ8bSk1JqJ0mW");
    CHECK(c.users.at("other user") == "$2b$04$x'y");

    WebConfig users_only = parse_web_config("basic_auth_users:\r\n  u: $2b$04$h\r\n");
    CHECK(!users_only.tls());
    CHECK(users_only.users.size() == 1);
    CHECK(parse_web_config("").users.empty());
    CHECK(parse_web_config("# nothing\n\n").users.empty());
    CHECK(parse_web_config("basic_auth_users:\n").users.empty());
}

TEST_CASE("web config: unknown and unsupported keys, bad YAML, missing files are refused",
          "[web_config]") {
    CHECK_THAT(refusal("tls_server_config:\n  cert_file: a\n  key_file: b\n  certfile: c\n"),
               Catch::Matchers::Contains("line 4: tls_server_config: unknown key 'certfile'"));
    CHECK_THAT(refusal("basic_auth_user:\n  u: h\n"),
               Catch::Matchers::Contains("line 1: unknown key 'basic_auth_user'"));
    CHECK_THAT(refusal("http_server_config:\n  http2: false\n"),
               Catch::Matchers::Contains("not supported"));
    CHECK_THAT(refusal("tls_server_config:\n  cert_file: a\n  key_file: b\n"
                       "  client_ca_file: ca\n"),
               Catch::Matchers::Contains("client_ca_file is not supported"));
    CHECK_THAT(refusal("tls_server_config:\n  cert_file: a\n"),
               Catch::Matchers::Contains("missing key_file"));
    CHECK_THAT(refusal("tls_server_config:\n  key_file: a\n"),
               Catch::Matchers::Contains("missing cert_file"));
    CHECK_THAT(refusal("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS9\n"),
               Catch::Matchers::Contains("line 4"));
    CHECK_THAT(refusal("tls_server_config:\n  cert_file: a\n  key_file: b\n"
                       "  min_version: TLS13\n  max_version: TLS12\n"),
               Catch::Matchers::Contains("above"));
    CHECK_THAT(refusal("basic_auth_users:\n  u:\n"), Catch::Matchers::Contains("no password hash"));
    CHECK_THAT(refusal("basic_auth_users:\n  u: a\n  u: b\n"),
               Catch::Matchers::Contains("line 3: 'u' given twice"));
    CHECK_THAT(refusal("basic_auth_users:\n  u: a\nbasic_auth_users:\n  v: b\n"),
               Catch::Matchers::Contains("given twice"));
    CHECK_THAT(refusal("basic_auth_users:\n  u: a\n    v: b\n"),
               Catch::Matchers::Contains("line 3: indented"));
    CHECK_THAT(refusal("  basic_auth_users:\n"), Catch::Matchers::Contains("line 1"));
    CHECK_THAT(refusal("basic_auth_users: {u: a}\n"), Catch::Matchers::Contains("line 1"));
    CHECK_THAT(refusal("basic_auth_users: x\n"), Catch::Matchers::Contains("a mapping"));
    CHECK_THAT(refusal("basic_auth_users:\n\t u: a\n"), Catch::Matchers::Contains("tab"));
    CHECK_THAT(refusal("basic_auth_users:\n  - u\n"), Catch::Matchers::Contains("line 2"));
    CHECK_THAT(refusal("basic_auth_users:\n  u: \"a\n"), Catch::Matchers::Contains("does not end"));
    CHECK_THAT(refusal("basic_auth_users\n"), Catch::Matchers::Contains("line 1"));
    CHECK_THAT(refusal("basic_auth_users:\n  u: a\n---\nx: y\n"),
               Catch::Matchers::Contains("one document"));
    CHECK_THROWS_AS(read_web_config("/nonexistent/web.yml"), UsageError);
}

TEST_CASE("web config: basic authentication's header and bcrypt hashes", "[web_config]") {
    std::string user, password;
    REQUIRE(parse_basic_authorization("Basic cHJvbWV0aGV1czpzM2NyZXQ=", user, password));
    CHECK(user == "prometheus");
    CHECK(password == "s3cret");
    REQUIRE(parse_basic_authorization("basic dTpwOjE=", user, password)); // the first ':' splits
    CHECK(user == "u");
    CHECK(password == "p:1");
    CHECK(!parse_basic_authorization("Bearer abc", user, password));
    CHECK(!parse_basic_authorization("Basic ***", user, password));
    CHECK(!parse_basic_authorization("Basic dXNlcg==", user, password)); // no ':'
    CHECK(!parse_basic_authorization("Basic dTpw=x==", user, password));
    CHECK(!parse_basic_authorization("", user, password));

    // python3 -c "import crypt; print(crypt.crypt('secret', '$2b$05$abcdefghijklmnopqrstuu'))"
    const std::string hash = "$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a";
    CHECK(bcrypt_matches("secret", hash));
    CHECK(!bcrypt_matches("Secret", hash));
    CHECK(!bcrypt_matches("", hash));
    std::string y = hash;
    y[2] = 'y'; // $2y$ is $2b$ under another name
    CHECK(bcrypt_matches("secret", y));
    CHECK(!bcrypt_matches("secret", "plain"));
    CHECK(!bcrypt_matches("secret", "$6$salt$notbcrypt"));
}

} // namespace test_web_config
