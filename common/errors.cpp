#include "errors.h"

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

} // namespace corescope
