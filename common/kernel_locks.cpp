#include "kernel_locks.h"

#include "errors.h"
#include "symbolizer.h"

#include <array>
#include <cstdio>
#include <cstdlib>

namespace corescope {

std::string lock_kind(uint32_t flags) {
    bool read = flags & lock_flag_read, write = flags & lock_flag_write;
    std::string rw = read ? "-read" : write ? "-write" : "";
    if (flags & lock_flag_mutex) return flags & lock_flag_rt ? "rt-mutex" : "mutex";
    if (flags & lock_flag_percpu) return "percpu-rwsem" + rw;
    if (flags & lock_flag_spin) return (read || write) ? "rwlock" + rw : "spinlock";
    if (read || write) return "rwsem" + rw;
    if (flags & lock_flag_rt) return "rt-mutex";
    if (flags == 0) return "semaphore";
    char b[24];
    std::snprintf(b, sizeof b, "flags=0x%x", flags);
    return b;
}

bool lock_function(std::string_view name) {
    static constexpr std::array<std::string_view, 24> prefixes = {
        "mutex_lock",     "__mutex_lock",   "mutex_trylock", "ww_mutex_lock", "__ww_mutex",
        "down_",          "__down_",        "rwsem_",        "__rwsem_",      "percpu_down_",
        "__percpu_down_", "percpu_rwsem_",  "_raw_spin_",    "_raw_read_",    "_raw_write_",
        "queued_",        "native_queued_", "__pv_queued_",  "do_raw_",       "rt_mutex_",
        "__rt_mutex_",    "rt_spin_",       "rwbase_",       "osq_lock"};
    for (std::string_view p : prefixes)
        if (name.starts_with(p)) return true;
    return name == "down" || name == "mutex_lock_nested";
}

bool trampoline_frame(const Frame& frame) {
    return frame.symbol.module == "bpf" || frame.symbol.name.starts_with("bpf_trampoline_");
}

size_t lock_caller_index(const ResolvedStack& stack) {
    for (size_t i = 0; i < stack.frames.size(); i++)
        if (!lock_function(stack.frames[i].symbol.name) && !trampoline_frame(stack.frames[i]))
            return i;
    return stack.frames.size();
}

std::string lock_caller(const ResolvedStack& stack) {
    size_t i = lock_caller_index(stack);
    return i < stack.frames.size() ? frame_label(stack.frames[i]) : std::string();
}

uint64_t parse_lock_address(std::string_view text, const std::string& kallsyms) {
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        std::string digits(text.substr(2));
        char* end = nullptr;
        unsigned long long value = std::strtoull(digits.c_str(), &end, 16);
        if (digits.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos && end &&
            *end == '\0' && value != 0)
            return value;
        throw UsageError("invalid lock '" + std::string(text) + "': not an address (0xffff...)");
    }
    if (uint64_t address = kernel_symbol_address(text, kallsyms)) return address;
    throw UsageError("invalid lock '" + std::string(text) +
                     "': no such symbol with an address in /proc/kallsyms (locks are named there "
                     "only with CONFIG_KALLSYMS_ALL): give its address, 0x...");
}

} // namespace corescope
