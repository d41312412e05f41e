// corescope export's network-facing parsing: the HTTP request parser
// (common/http_request.h) and the exposition's escaping (common/
// exposition.h) with arbitrary bytes. A head is complete only when it ends
// within the limit; what it gives back holds no line break; more bytes
// never undo a complete head; the Accept header always picks a format; a
// label value or HELP text of any bytes renders as one valid UTF-8 line.
#include "checks.h"
#include "exposition.h"
#include "http_request.h"

#include <string>

namespace {

void check_fields(const corescope::HttpRequest& r, std::string_view input) {
    for (const std::string* field :
         {&r.method, &r.target, &r.path, &r.accept, &r.accept_encoding, &r.authorization})
        if (field->find('\n') != std::string::npos || field->find('\r') != std::string::npos)
            fuzz::fail("a parsed field holds a line break", input);
    if (r.target.empty() || r.target[0] != '/') fuzz::fail("a target not in origin form", input);
    if (r.target.compare(0, r.path.size(), r.path) != 0)
        fuzz::fail("the path is not the target's start", input);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    size_t max_head = 64 + size % 256;

    corescope::HttpRequest full;
    corescope::HttpParse whole = corescope::parse_http_request(input, max_head, full);
    if (whole == corescope::HttpParse::complete) {
        check_fields(full, input);
        if (input.find('\n') == std::string_view::npos)
            fuzz::fail("complete without a line", input);
    }
    if (whole == corescope::HttpParse::incomplete && size > max_head)
        fuzz::fail("incomplete past the limit", input);
    // A prefix that is complete (or refused) stays so with more bytes.
    for (size_t cut : {size / 3, size / 2, size > 0 ? size - 1 : 0}) {
        corescope::HttpRequest part;
        corescope::HttpParse p =
            corescope::parse_http_request(input.substr(0, cut), max_head, part);
        if (p == corescope::HttpParse::complete &&
            (whole != corescope::HttpParse::complete || part.target != full.target))
            fuzz::fail("more bytes changed a complete head", input);
        if (p == corescope::HttpParse::too_large && whole != corescope::HttpParse::too_large)
            fuzz::fail("more bytes undid a head too large", input);
    }

    (void)corescope::format_from_accept(input);

    corescope::Exposition e;
    e.family("corescope_fuzz", corescope::MetricType::gauge, std::string(input))
        .add({{"value", std::string(input)}}, static_cast<double>(size));
    for (auto format :
         {corescope::ExpositionFormat::text, corescope::ExpositionFormat::openmetrics}) {
        std::string out = e.render(format);
        if (const char* wrong = fuzz::check_utf8(out)) fuzz::fail(wrong, out);
        size_t lines = 0;
        for (char c : out)
            lines += c == '\n';
        if (lines != (format == corescope::ExpositionFormat::text ? 3u : 4u))
            fuzz::fail("escaping broke a line", out);
    }
    return 0;
}
