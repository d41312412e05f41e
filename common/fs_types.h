// What the tools that time file-system calls by file-system type share
// (fsslower, fsdist; their BPF side is bpf/fs_calls.bpf.h): the type names
// a run wants, from --type or from the name the tool runs under
// (ext4slower, xfsdist), the check of those names against the kernel's,
// the names of the calls, and the attach step.
#pragma once

#include "attach_plan.h"

#include "fs_calls.h"

#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace corescope {

// "ext4,xfs" as the type names the kernel uses (file_system_type.name);
// "nfs" also means NFSv4 mounts, whose type is "nfs4". Throws UsageError
// naming the text for an empty, too long or odd name, or more than
// FS_CALLS_MAX_TYPES types.
std::vector<std::string> parse_fs_types(std::string_view text);

// The type a tool's name means: with suffix "dist", ext4dist (or
// bpf-ext4dist under -Dtool_prefix=bpf-) is "ext4"; the generic name
// ("fsdist"), or any name not ending in suffix, is "".
std::string fs_type_from_name(std::string invoked_as, std::string_view suffix,
                              std::string_view generic);

// The names of /proc/filesystems ("nodev\tproc", "\text4").
std::vector<std::string> registered_fs_types(std::string_view proc_filesystems);

// The wanted types neither registered nor loadable: registered holds the
// kernel's names, loadable(type) says whether a module would register the
// type on its first mount. "nfs4" is known where "nfs" is.
std::vector<std::string> unknown_fs_types(const std::vector<std::string>& types,
                                          const std::vector<std::string>& registered,
                                          const std::function<bool(const std::string&)>& loadable);

// The same against this system: /proc/filesystems, and
// /lib/modules/RELEASE/kernel/fs/TYPE for a module not loaded yet.
std::vector<std::string> unknown_fs_types(const std::vector<std::string>& types);

// Whether any of types is registered now: when none is, says so on stderr
// (a typo, or a module not loaded yet): the tool would show nothing until
// one is mounted.
void warn_unregistered_fs_types(const std::string& tool, const std::vector<std::string>& types);

// "read", "write", "open", "fsync" (enum fs_call_op); "?" past them.
const char* fs_call_op_name(uint32_t op);
// "pread64", "openat2"... (enum fs_call_syscall); "?" past them.
const char* fs_call_syscall_name(uint32_t syscall);

// The system calls bpf/fs_calls.bpf.h traces, in both tiers.
AttachStep fs_calls_step();

// Sets bpf/fs_calls.bpf.h's switches in a skeleton's rodata: the tool's
// own process (left out) and the wanted types.
template <class Rodata>
void configure_fs_calls(Rodata* rodata, uint32_t self_tgid, const std::vector<std::string>& types) {
    rodata->fs_calls_self_tgid = self_tgid;
    rodata->fs_calls_type_count = static_cast<uint32_t>(types.size());
    for (size_t i = 0; i < types.size() && i < FS_CALLS_MAX_TYPES; i++) {
        auto* slot = const_cast<char*>(rodata->fs_calls_types[i]);
        std::memcpy(slot, types[i].c_str(), types[i].size() + 1);
    }
}

} // namespace corescope
