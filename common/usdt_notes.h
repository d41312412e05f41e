// USDT (SystemTap SDT) probes as an ELF file describes them: one
// .note.stapsdt note per probe site, each with the site's address, the
// base it was linked against (.stapsdt.base), its semaphore's address, and
// three strings: provider, name and the arguments' specs ("-4@%eax
// 8@-16(%rbp) 4@$5"). The bytes come from files of any origin: the parser
// checks every length and offset, and skips what does not parse.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace corescope {

struct UsdtArgument {
    std::string spec;  // as written: "-4@-20(%rbp)"
    unsigned size = 0; // bytes: 1, 2, 4 or 8 (0 when the spec has none)
    bool is_signed = false;
    std::string location; // "%eax", "-20(%rbp)", "$5"
};

struct UsdtNote {
    uint64_t address = 0;   // of the probe site (a nop), as linked
    uint64_t base = 0;      // .stapsdt.base's address, as linked
    uint64_t semaphore = 0; // 0: none
    std::string provider;
    std::string name;
    std::string arguments; // the specs, space-separated, as written
};

// The stapsdt notes (type 3, owner "stapsdt") among the raw bytes of a note
// section, in order; other notes and malformed ones are skipped.
// address_size is 4 or 8; big_endian is the file's byte order.
std::vector<UsdtNote> parse_stapsdt_notes(std::span<const uint8_t> section, unsigned address_size,
                                          bool big_endian);

// The specs of a note's arguments, one each; a spec without a size
// ("%eax") has size 0.
std::vector<UsdtArgument> parse_usdt_arguments(std::string_view arguments);

// The sites of each probe (provider and name) of a file's notes, in file
// order, each probe once with its sites together; only the probes takes
// (provider, name) is true for.
std::vector<std::vector<const UsdtNote*>>
usdt_probe_sites(const std::vector<UsdtNote>& notes,
                 const std::function<bool(std::string_view, std::string_view)>& takes);

// One probe's sites as a JSON array: [{"address":N,"base":N,"semaphore":N,
// "arguments_spec":S,"arguments":[{"spec":S,"size":N|null,"signed":B|null,
// "location":S}, ...]}, ...].
std::string usdt_sites_json(const std::vector<const UsdtNote*>& sites);

// One site as text, each line after a newline and indented:
// "site 0x1234, semaphore 0x5678" (or "none"), then its arguments
// ("arg1: signed 32-bit, -4(%rbp)"), names escaped.
void append_usdt_site_text(std::string& out, const UsdtNote& site);

} // namespace corescope
