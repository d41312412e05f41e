// Names for the flags and numbers system calls take, as their man pages
// spell them, for the tools that show them.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace corescope {

// open(2) flags: the access mode, then every flag set, joined by '|'
// ("O_WRONLY|O_CREAT|O_TRUNC").
std::string open_flag_names(uint64_t flags);

// A flag's bits and name, for flag_names().
struct FlagName {
    uint64_t bits;
    const char* name;
};

// The names of the flags set in flags, in the table's order, joined by '|'
// ("MS_NOSUID|MS_NODEV"), then any bits no name covers in hex; "0" for none.
std::string flag_names(uint64_t flags, std::span<const FlagName> names);

} // namespace corescope
