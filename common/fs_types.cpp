#include "fs_types.h"

#include "errors.h"
#include "text_file.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "version.h"

namespace corescope {

std::vector<std::string> parse_fs_types(std::string_view text) {
    std::vector<std::string> types;
    size_t start = 0;
    while (start <= text.size()) {
        size_t comma = text.find(',', start);
        if (comma == std::string_view::npos) comma = text.size();
        std::string type(text.substr(start, comma - start));
        bool valid = !type.empty() && type.size() < FS_CALLS_TYPE_LEN;
        for (char c : type)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
                valid = false;
        if (!valid)
            throw UsageError("invalid file-system type '" + std::string(text) +
                             "': a comma-separated list of names like ext4, xfs, btrfs, nfs");
        types.push_back(type);
        if (type == "nfs") types.push_back("nfs4");
        start = comma + 1;
    }
    if (types.size() > FS_CALLS_MAX_TYPES)
        throw UsageError("invalid file-system type '" + std::string(text) + "': at most " +
                         std::to_string(FS_CALLS_MAX_TYPES) + " types");
    return types;
}

std::string fs_type_from_name(std::string invoked_as, std::string_view suffix,
                              std::string_view generic) {
    std::string_view prefix = corescope_tool_prefix;
    if (!prefix.empty() && invoked_as.compare(0, prefix.size(), prefix) == 0)
        invoked_as.erase(0, prefix.size());
    if (invoked_as.size() <= suffix.size() || invoked_as == generic ||
        invoked_as.compare(invoked_as.size() - suffix.size(), suffix.size(), suffix) != 0)
        return {};
    return invoked_as.substr(0, invoked_as.size() - suffix.size());
}

std::vector<std::string> registered_fs_types(std::string_view proc_filesystems) {
    std::vector<std::string> names;
    for (std::string_view line : split_lines(proc_filesystems)) {
        std::string_view name = line.substr(line.find('\t') + 1);
        if (!name.empty()) names.emplace_back(name);
    }
    return names;
}

std::vector<std::string> unknown_fs_types(const std::vector<std::string>& types,
                                          const std::vector<std::string>& registered,
                                          const std::function<bool(const std::string&)>& loadable) {
    auto known = [&](const std::string& type) {
        return std::find(registered.begin(), registered.end(), type) != registered.end() ||
               loadable(type);
    };
    std::vector<std::string> unknown;
    for (const std::string& type : types) {
        if (known(type) || (type == "nfs4" && known("nfs"))) continue;
        unknown.push_back(type);
    }
    return unknown;
}

std::vector<std::string> unknown_fs_types(const std::vector<std::string>& types) {
    std::optional<std::string> filesystems = read_text_file("/proc/filesystems");
    if (!filesystems) return {}; // nothing to judge by
    struct utsname u;
    std::string modules = uname(&u) == 0 ? std::string("/lib/modules/") + u.release : "";
    return unknown_fs_types(types, registered_fs_types(*filesystems), [&](const std::string& t) {
        struct stat st;
        return !modules.empty() && stat((modules + "/kernel/fs/" + t).c_str(), &st) == 0;
    });
}

void warn_unregistered_fs_types(const std::string& tool, const std::vector<std::string>& types) {
    std::optional<std::string> filesystems = read_text_file("/proc/filesystems");
    if (!filesystems) return;
    std::vector<std::string> known = registered_fs_types(*filesystems);
    bool any = false;
    for (const std::string& t : types)
        if (std::find(known.begin(), known.end(), t) != known.end()) any = true;
    if (!any) {
        std::string list;
        for (const std::string& t : types)
            list += (list.empty() ? "" : ",") + t;
        std::fprintf(stderr,
                     "%s: warning: no file system of type %s is registered (/proc/filesystems); "
                     "nothing will show until one is mounted\n",
                     tool.c_str(), list.c_str());
    }
}

const char* fs_call_op_name(uint32_t op) {
    static const char* const names[FS_CALL_OP_COUNT] = {"read", "write", "open", "fsync"};
    return op < FS_CALL_OP_COUNT ? names[op] : "?";
}

const char* fs_call_syscall_name(uint32_t syscall) {
    static const char* const names[FS_CALL_SYSCALL_COUNT] = {
        "read",    "write",    "pread64", "pwrite64", "readv",   "writev", "preadv", "pwritev",
        "preadv2", "pwritev2", "open",    "openat",   "openat2", "creat",  "fsync",  "fdatasync",
    };
    return syscall < FS_CALL_SYSCALL_COUNT ? names[syscall] : "?";
}

AttachStep fs_calls_step() {
    std::vector<SyscallProgram> calls;
    for (const char* call : {"read", "write", "pread64", "pwrite64", "readv", "writev", "openat",
                             "fsync", "fdatasync"})
        calls.push_back({call});
    // Absent on some architectures (open, creat) or older kernels (openat2).
    for (const char* call :
         {"preadv", "pwritev", "preadv2", "pwritev2", "open", "creat", "openat2"})
        calls.push_back({call, true, true, true});
    return syscall_tiers("file system calls", calls);
}

} // namespace corescope
