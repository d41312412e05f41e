#include "flag_names.h"

#include <cstdio>
#include <fcntl.h>
#include <utility>

namespace corescope {

std::string open_flag_names(uint64_t flags) {
    std::string out;
    switch (flags & O_ACCMODE) {
    case O_RDONLY:
        out = "O_RDONLY";
        break;
    case O_WRONLY:
        out = "O_WRONLY";
        break;
    case O_RDWR:
        out = "O_RDWR";
        break;
    default:
        out = "O_ACCMODE";
        break;
    }
    // In the order open(2) lists them. O_SYNC includes O_DSYNC's bit: it
    // is named instead of it.
    static const std::pair<uint64_t, const char*> names[] = {
        {O_CREAT, "O_CREAT"},         {O_EXCL, "O_EXCL"},
        {O_NOCTTY, "O_NOCTTY"},       {O_TRUNC, "O_TRUNC"},
        {O_APPEND, "O_APPEND"},       {O_NONBLOCK, "O_NONBLOCK"},
        {O_DSYNC, "O_DSYNC"},         {O_ASYNC, "O_ASYNC"},
        {O_DIRECT, "O_DIRECT"},       {O_LARGEFILE, "O_LARGEFILE"},
        {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"},
        {O_NOATIME, "O_NOATIME"},     {O_CLOEXEC, "O_CLOEXEC"},
        {O_PATH, "O_PATH"},           {O_TMPFILE & ~O_DIRECTORY, "O_TMPFILE"},
    };
    // A flag the C library defines as 0 (O_LARGEFILE on 64-bit systems) is
    // never named: every value would "have" it.
    bool sync = flags & (O_SYNC & ~O_DSYNC);
    for (auto [bit, name] : names)
        if (bit != 0 && (flags & bit) == bit && !(bit == O_DSYNC && sync))
            out += std::string("|") + name;
    if (sync) out += "|O_SYNC";
    return out;
}

std::string flag_names(uint64_t flags, std::span<const FlagName> names) {
    std::string out;
    uint64_t named = 0;
    for (const FlagName& f : names) {
        if (f.bits == 0 || (flags & f.bits) != f.bits) continue;
        if (!out.empty()) out += '|';
        out += f.name;
        named |= f.bits;
    }
    if (uint64_t rest = flags & ~named) {
        char hex[24];
        snprintf(hex, sizeof(hex), "0x%llx", static_cast<unsigned long long>(rest));
        if (!out.empty()) out += '|';
        out += hex;
    }
    return out.empty() ? "0" : out;
}

} // namespace corescope
