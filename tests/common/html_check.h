// What the triage HTML page's tests (unit and fuzz) check of its markup:
// every '<' opens or closes one of the renderer's own elements, with
// double-quoted attributes holding no '<' or '"', elements balanced; every
// '&' starts one of the references markup.h writes; <style> and <script>
// hold no '<' but their own end tag. Returns what is wrong, or "".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace html_check {

inline bool known_element(std::string_view name) {
    static const char* const names[] = {
        "html",  "head",   "meta",       "title",   "style",  "body", "header", "h1",   "h2",
        "h3",    "p",      "time",       "section", "ol",     "ul",   "li",     "span", "table",
        "thead", "tbody",  "tr",         "th",      "td",     "div",  "svg",    "rect", "line",
        "text",  "figure", "figcaption", "i",       "footer", "code", "script"};
    for (const char* n : names)
        if (name == n) return true;
    return false;
}

inline bool void_element(std::string_view name) {
    return name == "meta";
}

inline std::string check_markup(std::string_view s) {
    std::vector<std::string> open;
    size_t i = 0;
    const std::string doctype = "<!DOCTYPE html>";
    if (s.substr(0, doctype.size()) != doctype) return "no <!DOCTYPE html> first";
    i = doctype.size();
    while (i < s.size()) {
        char c = s[i];
        if (c == '&') {
            bool ok = false;
            for (const char* ref : {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"})
                ok = ok || s.substr(i, std::string_view(ref).size()) == ref;
            if (!ok) return "a '&' that starts no reference at " + std::to_string(i);
            i++;
            continue;
        }
        if (c == '>') return "a '>' outside a tag at " + std::to_string(i);
        if (c != '<') {
            i++;
            continue;
        }
        bool closing = i + 1 < s.size() && s[i + 1] == '/';
        size_t name_at = i + (closing ? 2 : 1), name_end = name_at;
        while (name_end < s.size() && ((s[name_end] >= 'a' && s[name_end] <= 'z') ||
                                       (s[name_end] >= '0' && s[name_end] <= '9')))
            name_end++;
        std::string name(s.substr(name_at, name_end - name_at));
        if (!known_element(name))
            return "'<' not opening an element of the renderer's at " + std::to_string(i);
        // Attributes: name="value", the value without '<' or '"'.
        size_t j = name_end;
        bool self_closed = false;
        for (;;) {
            if (j >= s.size()) return "a tag not closed at " + std::to_string(i);
            if (s[j] == '>') break;
            if (s.substr(j, 2) == "/>") {
                self_closed = true;
                j++;
                break;
            }
            if (s[j] != ' ' || closing) return "a bad tag at " + std::to_string(i);
            j++;
            while (j < s.size() && ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') ||
                                    (s[j] >= '0' && s[j] <= '9') || s[j] == '-'))
                j++;
            if (s.substr(j, 2) != "=\"") return "a bad attribute at " + std::to_string(j);
            j += 2;
            while (j < s.size() && s[j] != '"') {
                if (s[j] == '<') return "a '<' in an attribute at " + std::to_string(j);
                j++;
            }
            j++;
        }
        i = j + 1;
        if (closing) {
            if (open.empty() || open.back() != name)
                return "</" + name + "> closes " + (open.empty() ? "nothing" : open.back());
            open.pop_back();
        } else if (!self_closed && !void_element(name)) {
            open.push_back(name);
            if (name == "style" || name == "script") {
                std::string end = "</" + name + ">";
                size_t close = s.find(end, i);
                if (close == std::string_view::npos) return "<" + name + "> never closed";
                if (s.substr(i, close - i).find('<') != std::string_view::npos)
                    return "a '<' inside <" + name + ">";
                i = close;
            }
        }
    }
    if (!open.empty()) return "<" + open.back() + "> never closed";
    return "";
}

} // namespace html_check
