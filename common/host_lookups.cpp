#include "host_lookups.h"

#include "errors.h"
#include "text_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace corescope {

namespace {

// glibc's libc.so.6 (or libc-2.31.so), musl's ld-musl-ARCH.so.1.
bool is_libc_name(std::string_view path) {
    std::string_view base = path.substr(path.rfind('/') + 1);
    return base.rfind("libc.so", 0) == 0 || base.rfind("libc-", 0) == 0 ||
           (base.rfind("ld-musl-", 0) == 0 && base.find(".so") != std::string_view::npos);
}

// The C library a process has mapped, as a path in that process's mount
// namespace; empty when it maps none (statically linked).
std::string libc_in_maps(const std::string& maps_path) {
    std::string maps = read_text_file(maps_path).value_or("");
    for (std::string_view line : split_lines(maps)) {
        auto slash = line.find('/');
        if (slash == std::string::npos) continue;
        std::string path(line.substr(slash));
        if (is_libc_name(path)) return path;
    }
    return {};
}

// Where the C library is, when this program is linked statically.
std::string libc_in_usual_places() {
    for (const char* p : {"/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6",
                          "/lib/riscv64-linux-gnu/libc.so.6", "/lib64/libc.so.6",
                          "/usr/lib64/libc.so.6", "/lib/libc.so.6", "/usr/lib/libc.so.6",
                          "/lib/ld-musl-x86_64.so.1", "/lib/ld-musl-aarch64.so.1"})
        if (access(p, R_OK) == 0) return p;
    return {};
}

} // namespace

std::vector<std::string> libc_paths(const std::string& libc_option,
                                    const std::vector<uint32_t>& pids) {
    std::vector<std::string> candidates;
    if (!libc_option.empty()) {
        candidates.push_back(libc_option);
    } else if (!pids.empty()) {
        for (uint32_t pid : pids) {
            std::string proc = "/proc/" + std::to_string(pid);
            if (access(proc.c_str(), F_OK) != 0)
                throw RuntimeError("no process " + std::to_string(pid));
            std::string path = libc_in_maps(proc + "/maps");
            if (path.empty())
                throw RuntimeError("process " + std::to_string(pid) +
                                   " maps no shared C library (statically linked?); "
                                   "name its resolver library with --libc PATH");
            candidates.push_back(proc + "/root" + path);
        }
    } else {
        std::string path = libc_in_maps("/proc/self/maps");
        if (path.empty()) path = libc_in_usual_places();
        if (path.empty())
            throw RuntimeError("cannot find the C library (not in /proc/self/maps or the usual "
                               "places): name it with --libc PATH");
        candidates.push_back(path);
    }
    std::vector<std::string> paths;
    std::set<std::pair<dev_t, ino_t>> seen;
    for (const std::string& path : candidates) {
        struct stat st {};
        if (stat(path.c_str(), &st) != 0)
            throw RuntimeError(errno_message("cannot use the C library " + path, errno));
        if (seen.insert({st.st_dev, st.st_ino}).second) paths.push_back(path);
    }
    return paths;
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

std::string uprobe_target_in(const std::string& path, const char* function) {
    std::string found = function;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return found;
    elf_version(EV_CURRENT);
    Elf* elf = elf_begin(fd, ELF_C_READ, nullptr);
    uint64_t address = 0;
    for (Elf_Scn* scn = nullptr; elf && !address && (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr shdr;
        if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_DYNSYM) continue;
        Elf_Data* data = elf_getdata(scn, nullptr);
        for (size_t i = 0; data && shdr.sh_entsize && i < shdr.sh_size / shdr.sh_entsize; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(data, static_cast<int>(i), &sym)) continue;
            const char* name = elf_strptr(elf, shdr.sh_link, sym.st_name);
            if (name && std::strcmp(name, function) == 0 && sym.st_value) {
                address = sym.st_value;
                break;
            }
        }
    }
    size_t headers = 0;
    if (address && elf_getphdrnum(elf, &headers) == 0) {
        for (size_t i = 0; i < headers; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(elf, static_cast<int>(i), &ph) && ph.p_type == PT_LOAD &&
                address >= ph.p_vaddr && address < ph.p_vaddr + ph.p_filesz) {
                char offset[32];
                std::snprintf(offset, sizeof offset, "0x%llx",
                              static_cast<unsigned long long>(address - ph.p_vaddr + ph.p_offset));
                found = offset;
                break;
            }
        }
    }
    if (elf) elf_end(elf);
    close(fd);
    return found;
}

} // namespace corescope
