#include "usdt_notes.h"

#include "output.h"

#include <cstdio>
#include <map>
#include <utility>

namespace corescope {

namespace {

uint64_t read_word(const uint8_t* p, unsigned size, bool big_endian) {
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned shift = 8 * (big_endian ? size - 1 - i : i);
        v |= static_cast<uint64_t>(p[i]) << shift;
    }
    return v;
}

size_t aligned4(size_t n) {
    return (n + 3) & ~static_cast<size_t>(3);
}

// The NUL-terminated string at text[at...]; false when there is no NUL.
bool take_string(std::string_view text, size_t& at, std::string& out) {
    if (at > text.size()) return false;
    size_t end = text.find('\0', at);
    if (end == std::string_view::npos) return false;
    out.assign(text.substr(at, end - at));
    at = end + 1;
    return true;
}

} // namespace

std::vector<UsdtNote> parse_stapsdt_notes(std::span<const uint8_t> section, unsigned address_size,
                                          bool big_endian) {
    std::vector<UsdtNote> notes;
    if (address_size != 4 && address_size != 8) return notes;
    size_t at = 0;
    while (section.size() - at >= 12) {
        const uint8_t* header = section.data() + at;
        uint64_t namesz = read_word(header, 4, big_endian);
        uint64_t descsz = read_word(header + 4, 4, big_endian);
        uint64_t type = read_word(header + 8, 4, big_endian);
        size_t left = section.size() - at - 12;
        if (namesz > left || aligned4(namesz) > left || descsz > left - aligned4(namesz))
            break; // a note that runs past the section: nothing after it can be trusted
        const uint8_t* name = header + 12;
        const uint8_t* desc = name + aligned4(namesz);
        at += 12 + aligned4(namesz) + aligned4(descsz);
        if (at > section.size()) at = section.size();
        if (type != 3 || namesz != 8 ||
            std::string_view(reinterpret_cast<const char*>(name), 8) !=
                std::string_view("stapsdt\0", 8))
            continue;
        if (descsz < 3 * address_size) continue;
        UsdtNote note;
        note.address = read_word(desc, address_size, big_endian);
        note.base = read_word(desc + address_size, address_size, big_endian);
        note.semaphore = read_word(desc + 2 * address_size, address_size, big_endian);
        std::string_view text(reinterpret_cast<const char*>(desc) + 3 * address_size,
                              descsz - 3 * address_size);
        size_t pos = 0;
        if (!take_string(text, pos, note.provider) || !take_string(text, pos, note.name) ||
            note.provider.empty() || note.name.empty())
            continue;
        if (!take_string(text, pos, note.arguments)) note.arguments.clear();
        notes.push_back(std::move(note));
    }
    return notes;
}

std::vector<UsdtArgument> parse_usdt_arguments(std::string_view arguments) {
    std::vector<UsdtArgument> out;
    size_t at = 0;
    while (at < arguments.size()) {
        size_t start = arguments.find_first_not_of(' ', at);
        if (start == std::string_view::npos) break;
        size_t end = arguments.find(' ', start);
        if (end == std::string_view::npos) end = arguments.size();
        std::string_view spec = arguments.substr(start, end - start);
        at = end;
        UsdtArgument arg;
        arg.spec = std::string(spec);
        arg.location = arg.spec;
        size_t sign_at = spec.find('@');
        if (sign_at != std::string_view::npos && sign_at > 0) {
            std::string_view size = spec.substr(0, sign_at);
            bool is_signed = size[0] == '-';
            if (is_signed) size.remove_prefix(1);
            if (size == "1" || size == "2" || size == "4" || size == "8") {
                arg.size = static_cast<unsigned>(size[0] - '0');
                arg.is_signed = is_signed;
                arg.location = std::string(spec.substr(sign_at + 1));
            }
        }
        out.push_back(std::move(arg));
    }
    return out;
}

std::vector<std::vector<const UsdtNote*>>
usdt_probe_sites(const std::vector<UsdtNote>& notes,
                 const std::function<bool(std::string_view, std::string_view)>& takes) {
    std::vector<std::vector<const UsdtNote*>> probes;
    std::map<std::pair<std::string, std::string>, size_t> index;
    for (const UsdtNote& n : notes) {
        if (!takes(n.provider, n.name)) continue;
        auto [it, added] = index.try_emplace({n.provider, n.name}, probes.size());
        if (added) probes.emplace_back();
        probes[it->second].push_back(&n);
    }
    return probes;
}

std::string usdt_sites_json(const std::vector<const UsdtNote*>& sites) {
    std::string list = "[";
    for (const UsdtNote* site : sites) {
        if (list.size() > 1) list += ',';
        std::string args = "[";
        for (const UsdtArgument& a : parse_usdt_arguments(site->arguments)) {
            if (args.size() > 1) args += ',';
            JsonObject arg(args);
            arg.string("spec", a.spec);
            if (a.size)
                arg.unsigned_number("size", a.size).boolean("signed", a.is_signed);
            else
                arg.null("size").null("signed");
            arg.string("location", a.location).end();
        }
        args += ']';
        JsonObject(list)
            .unsigned_number("address", site->address)
            .unsigned_number("base", site->base)
            .unsigned_number("semaphore", site->semaphore)
            .string("arguments_spec", site->arguments)
            .raw("arguments", args)
            .end();
    }
    return list + ']';
}

void append_usdt_site_text(std::string& out, const UsdtNote& site) {
    char line[128];
    std::snprintf(line, sizeof line, "\n    site 0x%llx, semaphore ",
                  static_cast<unsigned long long>(site.address));
    out += line;
    if (site.semaphore) {
        std::snprintf(line, sizeof line, "0x%llx", static_cast<unsigned long long>(site.semaphore));
        out += line;
    } else {
        out += "none";
    }
    unsigned n = 0;
    for (const UsdtArgument& a : parse_usdt_arguments(site.arguments)) {
        out += "\n        arg" + std::to_string(++n) + ": ";
        if (a.size)
            out += std::string(a.is_signed ? "signed " : "unsigned ") + std::to_string(a.size * 8) +
                   "-bit, ";
        append_text_escaped(out, a.location);
    }
}

} // namespace corescope
