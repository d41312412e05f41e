#include "host_lookups.h"

#include "errors.h"

#include <sys/stat.h>

namespace corescope {

namespace {

// glibc's libc.so.6 (or libc-2.31.so), musl's ld-musl-ARCH.so.1.
bool is_libc_name(std::string_view base) {
    return base.rfind("libc.so", 0) == 0 || base.rfind("libc-", 0) == 0 ||
           (base.rfind("ld-musl-", 0) == 0 && base.find(".so") != std::string_view::npos);
}

} // namespace

std::vector<std::string> libc_paths(const std::string& libc_option,
                                    const std::vector<uint32_t>& pids) {
    static const UserFile libc{"shared C library",
                               is_libc_name,
                               {"/lib/x86_64-linux-gnu/libc.so.6",
                                "/lib/aarch64-linux-gnu/libc.so.6",
                                "/lib/riscv64-linux-gnu/libc.so.6", "/lib64/libc.so.6",
                                "/usr/lib64/libc.so.6", "/lib/libc.so.6", "/usr/lib/libc.so.6",
                                "/lib/ld-musl-x86_64.so.1", "/lib/ld-musl-aarch64.so.1"},
                               "--libc PATH"};
    return user_file_paths(libc, libc_option, pids);
}

AttachWay host_lookup_uprobes(const std::vector<std::string>& libcs,
                              const std::function<std::string(std::string_view)>& entry_program,
                              const std::string& return_program) {
    AttachWay uprobes;
    for (const std::string& libc : libcs) {
        for (const char* func : host_lookup_functions) {
            uprobes.points.push_back({entry_program(func), AttachKind::uprobe, libc + ":" + func});
            uprobes.points.push_back({return_program, AttachKind::uretprobe, libc + ":" + func});
        }
    }
    return uprobes;
}

void add_libc_option(CommandLine& cli, std::string& libc_option, const std::string& help) {
    cli.add_option(0, "libc", "PATH", help + " (default: the one processes use)",
                   [&libc_option](std::string_view v) {
                       std::string path(v);
                       struct stat st {};
                       if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
                           throw UsageError("invalid C library '" + path + "': no such file");
                       libc_option = path;
                   });
}

} // namespace corescope
