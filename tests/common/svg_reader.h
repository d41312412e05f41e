// A strict reader of the SVG common/flamegraph.cpp writes, for the unit,
// integration and fuzz tests: written apart from the renderer, so a
// mistake there is not repeated here. It accepts only what a flame graph
// should hold: the XML declaration, elements from a fixed list with quoted
// attributes, the five character references and &#N; in text and
// attributes, CDATA (the script), valid UTF-8 with no control byte but
// the newline and the tab; every element closed in order. Anything else is
// an error, with the offset.
#pragma once

#include "utf8.h" // beside this file

#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace svgreader {

struct Element {
    std::string name;
    std::map<std::string, std::string> attributes; // values with references read
    std::vector<std::unique_ptr<Element>> children;
    std::string text;  // character data directly inside, references read
    std::string cdata; // CDATA sections directly inside
    std::string attribute(const std::string& key) const {
        auto it = attributes.find(key);
        return it == attributes.end() ? std::string() : it->second;
    }
    // Every element below (not this one) named name, in document order.
    void find_all(std::string_view want, std::vector<const Element*>& out) const {
        for (const auto& c : children) {
            if (c->name == want) out.push_back(c.get());
            c->find_all(want, out);
        }
    }
    std::vector<const Element*> all(std::string_view want) const {
        std::vector<const Element*> out;
        find_all(want, out);
        return out;
    }
    const Element* child(std::string_view want) const {
        for (const auto& c : children)
            if (c->name == want) return c.get();
        return nullptr;
    }
};

struct Result {
    std::unique_ptr<Element> root; // the <svg> element
    std::string error;             // empty when the document is well formed
};

inline const std::set<std::string>& allowed_elements() {
    static const std::set<std::string> names{"svg",  "title", "style", "script",       "rect",
                                             "text", "g",     "input", "foreignObject"};
    return names;
}

namespace detail {

inline bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == ':' || c == '.';
}

// Reads text with references; false on a '<', a bad reference or (in an
// attribute) its quote.
inline bool read_references(std::string_view s, std::string& out, std::string& error) {
    for (size_t i = 0; i < s.size(); i++) {
        char c = s[i];
        if (c == '<' || c == '>') {
            error = std::string("a bare '") + c + "' in text";
            return false;
        }
        if (c != '&') {
            out += c;
            continue;
        }
        size_t end = s.find(';', i);
        if (end == std::string_view::npos || end - i > 10) {
            error = "an '&' that starts no reference";
            return false;
        }
        std::string_view ref = s.substr(i + 1, end - i - 1);
        if (ref == "amp")
            out += '&';
        else if (ref == "lt")
            out += '<';
        else if (ref == "gt")
            out += '>';
        else if (ref == "quot")
            out += '"';
        else if (ref == "apos")
            out += '\'';
        else if (ref.size() > 1 && ref[0] == '#') {
            unsigned long v = 0;
            for (char d : ref.substr(1)) {
                if (d < '0' || d > '9') {
                    error = "a bad character reference";
                    return false;
                }
                v = v * 10 + static_cast<unsigned long>(d - '0');
                if (v > 0x10ffff) break;
            }
            if (v != '\'' && v != '\n' && v != '"' && v != '&' && v != '<' && v != '>') {
                error = "an unexpected character reference";
                return false;
            }
            out += static_cast<char>(v);
        } else {
            error = "an unknown reference";
            return false;
        }
        i = end;
    }
    return true;
}

} // namespace detail

inline Result read(std::string_view s) {
    Result result;
    auto fail = [&](size_t at, const std::string& why) {
        result.error = why + " at offset " + std::to_string(at);
        result.root.reset();
        return std::move(result);
    };
    for (size_t i = 0; i < s.size();) {
        size_t n = testutf8::sequence_length(s, i);
        if (n == 0) return fail(i, "invalid UTF-8");
        unsigned char c = static_cast<unsigned char>(s[i]);
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) return fail(i, "a control byte");
        if (n == 2 && c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0)
            return fail(i, "a C1 control");
        i += n;
    }
    const std::string_view decl = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n";
    if (!s.starts_with(decl)) return fail(0, "no XML declaration");
    size_t i = decl.size();
    std::vector<Element*> open;
    std::unique_ptr<Element> root;
    while (i < s.size()) {
        if (s[i] != '<') {
            size_t end = s.find('<', i);
            if (end == std::string_view::npos) end = s.size();
            std::string_view text = s.substr(i, end - i);
            if (open.empty()) {
                if (text.find_first_not_of(" \n\t") != std::string_view::npos)
                    return fail(i, "text outside the root element");
            } else {
                std::string error;
                if (!detail::read_references(text, open.back()->text, error)) return fail(i, error);
            }
            i = end;
            continue;
        }
        if (s.substr(i).starts_with("<![CDATA[")) {
            size_t end = s.find("]]>", i);
            if (end == std::string_view::npos || open.empty())
                return fail(i, "a bad CDATA section");
            open.back()->cdata += s.substr(i + 9, end - i - 9);
            i = end + 3;
            continue;
        }
        if (s.substr(i).starts_with("</")) {
            size_t end = s.find('>', i);
            if (end == std::string_view::npos) return fail(i, "an unclosed end tag");
            std::string name(s.substr(i + 2, end - i - 2));
            if (open.empty() || open.back()->name != name)
                return fail(i, "an end tag that closes nothing open: " + name);
            open.pop_back();
            i = end + 1;
            continue;
        }
        // A start tag.
        size_t j = i + 1;
        while (j < s.size() && detail::name_char(s[j]))
            j++;
        std::string name(s.substr(i + 1, j - i - 1));
        if (!allowed_elements().count(name)) return fail(i, "an unexpected element '" + name + "'");
        auto element = std::make_unique<Element>();
        element->name = name;
        bool self_closing = false;
        for (;;) {
            while (j < s.size() && (s[j] == ' ' || s[j] == '\n'))
                j++;
            if (j >= s.size()) return fail(i, "an unclosed start tag");
            if (s[j] == '>') {
                j++;
                break;
            }
            if (s.substr(j).starts_with("/>")) {
                self_closing = true;
                j += 2;
                break;
            }
            size_t k = j;
            while (k < s.size() && detail::name_char(s[k]))
                k++;
            if (k == j || k + 1 >= s.size() || s[k] != '=' || s[k + 1] != '"')
                return fail(j, "a bad attribute");
            std::string key(s.substr(j, k - j));
            size_t close = s.find('"', k + 2);
            if (close == std::string_view::npos) return fail(j, "an unclosed attribute");
            std::string value, error;
            if (!detail::read_references(s.substr(k + 2, close - k - 2), value, error))
                return fail(k, error + " (attribute " + key + ")");
            if (!element->attributes.emplace(key, value).second)
                return fail(j, "a repeated attribute " + key);
            j = close + 1;
        }
        Element* raw = element.get();
        if (open.empty()) {
            if (root || name != "svg") return fail(i, "a second root, or a root other than svg");
            root = std::move(element);
        } else {
            open.back()->children.push_back(std::move(element));
        }
        if (!self_closing) open.push_back(raw);
        i = j;
    }
    if (!open.empty()) return fail(s.size(), "unclosed element " + open.back()->name);
    if (!root) return fail(s.size(), "no root element");
    result.root = std::move(root);
    return result;
}

} // namespace svgreader
