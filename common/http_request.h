// The request side of HTTP/1.x, as much as `corescope export` serves: the
// request line and the few headers it reads, from a buffer that may hold
// only part of the head yet. No body is read (GET and HEAD only), and the
// connection closes after each response. The parser faces the network: its
// fuzz target is tests/fuzz/fuzz_http.cpp.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace corescope {

struct HttpRequest {
    std::string method; // GET, HEAD, ...: a token, as sent
    std::string target; // origin form, "/metrics?x=y"
    std::string path;   // the target before '?'
    std::string accept; // joined with ", " when sent more than once
    std::string accept_encoding;
    std::string authorization;
};

enum class HttpParse {
    incomplete, // no end of the head yet, and still within the limit
    complete,   // request filled
    bad,        // 400: not a request line or header this parser takes
    too_large,  // 431: no end of the head within max_head bytes
};

// Parses the head at the start of data (request line, headers, the empty
// line; CRLF, or a lone LF as RFC 9112 allows). A head longer than max_head
// bytes is too_large even when its end has arrived.
HttpParse parse_http_request(std::string_view data, size_t max_head, HttpRequest& request);

} // namespace corescope
