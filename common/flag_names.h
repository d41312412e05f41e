// Names for the flags and numbers system calls take, as their man pages
// spell them, for the tools that show them.
#pragma once

#include <cstdint>
#include <string>

namespace corescope {

// open(2) flags: the access mode, then every flag set, joined by '|'
// ("O_WRONLY|O_CREAT|O_TRUNC").
std::string open_flag_names(uint64_t flags);

} // namespace corescope
