// The kernel's locks as a lock tool sees them (klockstat): the kind of lock
// lock:contention_begin's flags name, the frames of the locking functions
// in a kernel stack (the caller is the first frame past them), and a lock
// named on the command line by its address or its symbol.
#pragma once

#include "stacks.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace corescope {

// The flags of contention_begin (LCB_F_* in include/trace/events/lock.h).
inline constexpr uint32_t lock_flag_spin = 1u << 0;
inline constexpr uint32_t lock_flag_read = 1u << 1;
inline constexpr uint32_t lock_flag_write = 1u << 2;
inline constexpr uint32_t lock_flag_rt = 1u << 3;
inline constexpr uint32_t lock_flag_percpu = 1u << 4;
inline constexpr uint32_t lock_flag_mutex = 1u << 5;

// The kind of lock and how it was taken, from contention_begin's flags:
// "mutex", "rwsem-read", "spinlock", "rwlock-write", "percpu-rwsem-read",
// "rt-mutex", "semaphore" (no flag), else "flags=0x...".
std::string lock_kind(uint32_t flags);

// Frames of the locking primitives themselves (mutex_lock, down_read,
// _raw_spin_lock, osq_lock, ...).
bool lock_function(std::string_view name);

// A BPF trampoline's frame: where some fentry/fexit program (a hold-time
// program, or another tool's) is attached to a lock function, a wait's
// stack goes through it between the lock function and its caller.
bool trampoline_frame(const Frame& frame);

// The index of the caller's frame in a kernel stack (probe frames already
// dropped): the first that is neither a lock function nor a trampoline;
// frames.size() when every frame is one.
size_t lock_caller_index(const ResolvedStack& stack);
// That frame's label (frame_label); empty when there is none.
std::string lock_caller(const ResolvedStack& stack);

// A lock named by its address (0x hex) or by a name in /proc/kallsyms (a
// lock's name is there only with CONFIG_KALLSYMS_ALL). Throws UsageError.
uint64_t parse_lock_address(std::string_view text, const std::string& kallsyms = "/proc/kallsyms");

} // namespace corescope
