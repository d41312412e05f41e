// USDT (SystemTap SDT) probes as an ELF file describes them: one
// .note.stapsdt note per probe site, each with the site's address, the
// base it was linked against (.stapsdt.base), its semaphore's address, and
// three strings: provider, name and the arguments' specs ("-4@%eax
// 8@-16(%rbp) 4@$5"). The bytes come from files of any origin: the parser
// checks every length and offset, and skips what does not parse.
#pragma once

#include <cstdint>
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

} // namespace corescope
