#include "errors.h"
#include "cli.h"

#include <cstring>

namespace corescope {

std::string errno_message(const std::string& what, int err) {
    return what + ": " + std::strerror(err < 0 ? -err : err);
}

std::string errno_name(int err) {
    if (err < 0) err = -err;
    const char* name = strerrorname_np(err);
    return name ? name : std::to_string(err);
}

int parse_errno(const char* flag, std::string_view text) {
    if (!text.empty() && text[0] >= '0' && text[0] <= '9')
        return static_cast<int>(parse_unsigned(flag, text, 1, 4095));
    for (int e = 1; e < 4096; e++) {
        const char* name = strerrorname_np(e);
        if (name && text == name) return e;
    }
    throw UsageError("invalid " + std::string(flag) + " '" + std::string(text) +
                     "': not an errno name (like ENOENT) or number");
}

} // namespace corescope
