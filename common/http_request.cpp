#include "http_request.h"

#include <algorithm>

namespace corescope {

namespace {

// RFC 9110 tchar.
bool is_token_char(unsigned char c) {
    if (c >= '0' && c <= '9') return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_token_char(static_cast<unsigned char>(c))) return false;
    return true;
}

// Visible ASCII, spaces and tabs, and obs-text (bytes from 0x80): what a
// field value may hold.
bool is_field_value(std::string_view s) {
    for (char ch : s) {
        unsigned char c = static_cast<unsigned char>(ch);
        if (c < 0x20 && c != '\t') return false;
        if (c == 0x7f) return false;
    }
    return true;
}

bool equal_nocase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); i++)
        if ((static_cast<unsigned char>(a[i]) | 0x20) != (static_cast<unsigned char>(b[i]) | 0x20))
            return false;
    return true;
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// The next line of head (without its CRLF or LF), advancing head past it.
std::string_view next_line(std::string_view& head) {
    size_t lf = head.find('\n');
    std::string_view line = head.substr(0, lf);
    head.remove_prefix(lf == std::string_view::npos ? head.size() : lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

void append_field(std::string& to, std::string_view value) {
    if (!to.empty()) to += ", ";
    to.append(value);
}

} // namespace

HttpParse parse_http_request(std::string_view data, size_t max_head, HttpRequest& request) {
    // The head ends at the first empty line: "\n\r\n" or "\n\n".
    size_t end = std::string_view::npos;
    for (size_t i = data.find('\n'); i != std::string_view::npos; i = data.find('\n', i + 1)) {
        if (i + 1 < data.size() && data[i + 1] == '\n') {
            end = i + 2;
            break;
        }
        if (i + 2 < data.size() && data[i + 1] == '\r' && data[i + 2] == '\n') {
            end = i + 3;
            break;
        }
        if (i + 1 > max_head) break;
    }
    if (end == std::string_view::npos) {
        // Not a request at all: no need to wait for more.
        for (char c : data.substr(0, std::min<size_t>(data.size(), 16))) {
            if (c == ' ' || c == '\r' || c == '\n') break;
            if (!is_token_char(static_cast<unsigned char>(c))) return HttpParse::bad;
        }
        return data.size() > max_head ? HttpParse::too_large : HttpParse::incomplete;
    }
    if (end > max_head) return HttpParse::too_large;
    std::string_view head = data.substr(0, end);

    request = HttpRequest{};
    // METHOD SP request-target SP HTTP/1.x
    std::string_view line = next_line(head);
    size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return HttpParse::bad;
    size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        return HttpParse::bad;
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (!is_token(method)) return HttpParse::bad;
    if (version != "HTTP/1.1" && version != "HTTP/1.0") return HttpParse::bad;
    if (target.empty() || target.front() != '/') return HttpParse::bad;
    for (char ch : target) {
        unsigned char c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f) return HttpParse::bad;
    }
    request.method = method;
    request.target = target;
    request.path = target.substr(0, target.find('?'));

    while (!head.empty()) {
        line = next_line(head);
        if (line.empty()) break; // the end of the head
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) return HttpParse::bad;
        std::string_view name = line.substr(0, colon);
        // No whitespace before the colon, no obs-fold (RFC 9112, 5.1 and 5.2).
        if (!is_token(name)) return HttpParse::bad;
        std::string_view value = trim_ows(line.substr(colon + 1));
        if (!is_field_value(value)) return HttpParse::bad;
        if (equal_nocase(name, "accept"))
            append_field(request.accept, value);
        else if (equal_nocase(name, "accept-encoding"))
            append_field(request.accept_encoding, value);
        else if (equal_nocase(name, "authorization")) {
            if (!request.authorization.empty()) return HttpParse::bad;
            request.authorization = value;
        }
    }
    return HttpParse::complete;
}

} // namespace corescope
