#include "markup.h"

#include "output.h"

namespace corescope {

void append_markup_escaped(std::string& out, std::string_view s) {
    std::string text;
    append_text_escaped(text, s);
    for (size_t i = 0; i < text.size(); i++) {
        char c = text[i];
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        case '\xef':
            // EF BF BE and EF BF BF: U+FFFE and U+FFFF.
            if (i + 2 < text.size() && text[i + 1] == '\xbf' &&
                (text[i + 2] == '\xbe' || text[i + 2] == '\xbf')) {
                out += text[i + 2] == '\xbe' ? "\\ufffe" : "\\uffff";
                i += 2;
                break;
            }
            out += c;
            break;
        default:
            out += c;
        }
    }
}

std::string markup_escaped(std::string_view s) {
    std::string out;
    append_markup_escaped(out, s);
    return out;
}

std::string script_safe_json(std::string_view json) {
    std::string out;
    out.reserve(json.size());
    for (char c : json) {
        switch (c) {
        case '<':
            out += "\\u003c";
            break;
        case '>':
            out += "\\u003e";
            break;
        case '&':
            out += "\\u0026";
            break;
        default:
            out += c;
        }
    }
    return out;
}

} // namespace corescope
