// The HTTP request parser of `corescope export` (common/http_request.h):
// complete, partial, malformed and oversized heads.
#include "http_request.h"

#include <catch2/catch.hpp>

#include <string>

namespace test_http_request {

using namespace corescope;

TEST_CASE("http request: a scrape's head", "[http]") {
    HttpRequest r;
    std::string head = "GET /metrics?x=1 HTTP/1.1\r\nHost: 127.0.0.1:19435\r\n"
                       "Accept: application/openmetrics-text;version=1.0.0\r\n"
                       "accept: text/plain;q=0.5\r\nAccept-Encoding: gzip\r\n"
                       "Authorization: Basic dTpw\r\n\r\n";
    REQUIRE(parse_http_request(head, 8192, r) == HttpParse::complete);
    CHECK(r.method == "GET");
    CHECK(r.target == "/metrics?x=1");
    CHECK(r.path == "/metrics");
    CHECK(r.accept == "application/openmetrics-text;version=1.0.0, text/plain;q=0.5");
    CHECK(r.accept_encoding == "gzip");
    CHECK(r.authorization == "Basic dTpw");
    // Lone LFs, HTTP/1.0, no headers.
    REQUIRE(parse_http_request("HEAD / HTTP/1.0\n\n", 8192, r) == HttpParse::complete);
    CHECK(r.method == "HEAD");
    CHECK(r.path == "/");
    CHECK(r.accept.empty());
}

TEST_CASE("http request: partial heads wait, oversized ones are refused", "[http]") {
    HttpRequest r;
    std::string head = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    for (size_t n = 0; n < head.size(); n++) {
        INFO("first " << n << " bytes");
        CHECK(parse_http_request(head.substr(0, n), 8192, r) == HttpParse::incomplete);
    }
    std::string huge = "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(10000, 'a');
    CHECK(parse_http_request(huge, 8192, r) == HttpParse::too_large);
    CHECK(parse_http_request(huge + "\r\n\r\n", 8192, r) == HttpParse::too_large);
    CHECK(parse_http_request(head, head.size() - 1, r) == HttpParse::too_large);
    CHECK(parse_http_request(head, head.size(), r) == HttpParse::complete);
}

TEST_CASE("http request: malformed heads", "[http]") {
    HttpRequest r;
    for (const char* bad :
         {"\r\n\r\n", "GET\r\n\r\n", "GET /metrics\r\n\r\n", "GET /metrics HTTP/2.0\r\n\r\n",
          "GET metrics HTTP/1.1\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n",
          "G(T / HTTP/1.1\r\n\r\n", "GET /a b HTTP/1.1\r\n\r\n",
          "GET / HTTP/1.1\r\nNoColon\r\n\r\n", "GET / HTTP/1.1\r\nName : v\r\n\r\n",
          "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n",
          "GET / HTTP/1.1\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n", "\x16\x03\x01\x02"}) {
        INFO("head: " << bad);
        CHECK(parse_http_request(bad, 8192, r) == HttpParse::bad);
    }
}

} // namespace test_http_request
