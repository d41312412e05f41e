#include "user_files.h"

#include "errors.h"
#include "text_file.h"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <set>
#include <span>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace corescope {

namespace {

std::string base_name(std::string_view path) {
    return std::string(path.substr(path.rfind('/') + 1));
}

// The address of function in the symbol section of type type, 0 if none.
uint64_t symbol_address(Elf* elf, Elf64_Word type, std::string_view function) {
    for (Elf_Scn* scn = nullptr; (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr shdr;
        if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != type) continue;
        Elf_Data* data = elf_getdata(scn, nullptr);
        for (size_t i = 0; data && shdr.sh_entsize && i < shdr.sh_size / shdr.sh_entsize; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(data, static_cast<int>(i), &sym)) continue;
            if (GELF_ST_TYPE(sym.st_info) != STT_FUNC && GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC)
                continue;
            const char* name = elf_strptr(elf, shdr.sh_link, sym.st_name);
            if (name && sym.st_value && function == name) return sym.st_value;
        }
    }
    return 0;
}

} // namespace

bool is_shared_library(std::string_view name, std::string_view stem) {
    if (!name.starts_with(stem)) return false;
    std::string_view rest = name.substr(stem.size());
    return rest.starts_with(".so") || (rest.starts_with("-") && rest.find(".so") != rest.npos);
}

std::string file_in_maps(std::string_view maps,
                         const std::function<bool(std::string_view)>& matches) {
    for (std::string_view line : split_lines(maps)) {
        auto slash = line.find('/');
        if (slash == std::string::npos) continue;
        std::string_view path = line.substr(slash);
        // A file deleted since it was mapped: its old path is no way to it.
        if (path.ends_with(" (deleted)")) continue;
        if (matches(base_name(path))) return std::string(path);
    }
    return {};
}

std::vector<std::string> executable_files_in_maps(std::string_view maps) {
    std::vector<std::string> files;
    std::set<std::string, std::less<>> seen;
    for (std::string_view line : split_lines(maps)) {
        // "start-end perms offset dev inode   path"
        size_t perms = line.find(' ');
        if (perms == std::string_view::npos || perms + 4 >= line.size() || line[perms + 3] != 'x')
            continue;
        size_t slash = line.find('/');
        if (slash == std::string_view::npos) continue;
        std::string_view path = line.substr(slash);
        if (path.ends_with(" (deleted)")) continue;
        if (seen.emplace(path).second) files.emplace_back(path);
    }
    return files;
}

std::vector<std::string> user_file_paths(const UserFile& file, const std::string& given,
                                         const std::vector<uint32_t>& pids) {
    std::vector<std::string> candidates;
    std::string name_it = file.option.empty() ? "" : ": name it with " + file.option;
    if (!given.empty()) {
        candidates.push_back(given);
    } else if (!pids.empty()) {
        for (uint32_t pid : pids) {
            std::string proc = "/proc/" + std::to_string(pid);
            if (access(proc.c_str(), F_OK) != 0)
                throw RuntimeError("no process " + std::to_string(pid));
            std::string path =
                file_in_maps(read_text_file(proc + "/maps").value_or(""), file.matches);
            if (path.empty())
                throw RuntimeError("process " + std::to_string(pid) + " maps no " + file.what +
                                   " (statically linked, or not using it?)" + name_it);
            candidates.push_back(proc + "/root" + path);
        }
    } else {
        std::string path =
            file_in_maps(read_text_file("/proc/self/maps").value_or(""), file.matches);
        for (size_t i = 0; path.empty() && i < file.usual_places.size(); i++)
            if (access(file.usual_places[i].c_str(), R_OK) == 0) path = file.usual_places[i];
        if (path.empty())
            throw RuntimeError("cannot find " + file.what + " (not in the usual places)" + name_it);
        candidates.push_back(path);
    }
    std::vector<std::string> paths;
    std::set<std::pair<dev_t, ino_t>> seen;
    for (const std::string& path : candidates) {
        struct stat st {};
        if (stat(path.c_str(), &st) != 0)
            throw RuntimeError(errno_message("cannot use " + file.what + " " + path, errno));
        if (seen.insert({st.st_dev, st.st_ino}).second) paths.push_back(path);
    }
    return paths;
}

std::optional<uint64_t> function_offset(const std::string& path, std::string_view function) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    elf_version(EV_CURRENT);
    Elf* elf = elf_begin(fd, ELF_C_READ, nullptr);
    std::optional<uint64_t> offset;
    uint64_t address = 0;
    if (elf) {
        address = symbol_address(elf, SHT_DYNSYM, function);
        if (!address) address = symbol_address(elf, SHT_SYMTAB, function);
    }
    size_t headers = 0;
    if (address && elf_getphdrnum(elf, &headers) == 0) {
        for (size_t i = 0; i < headers; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(elf, static_cast<int>(i), &ph) && ph.p_type == PT_LOAD &&
                address >= ph.p_vaddr && address < ph.p_vaddr + ph.p_filesz) {
                offset = address - ph.p_vaddr + ph.p_offset;
                break;
            }
        }
    }
    if (elf) elf_end(elf);
    close(fd);
    return offset;
}

std::string uprobe_target_in(const std::string& path, std::string_view function) {
    std::optional<uint64_t> offset = function_offset(path, function);
    if (!offset) return std::string(function);
    char text[32];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(*offset));
    return text;
}

std::vector<std::string> executable_files_of_process(uint32_t pid) {
    std::string proc = "/proc/" + std::to_string(pid);
    std::optional<std::string> maps = read_text_file(proc + "/maps");
    if (!maps) throw RuntimeError("no process " + std::to_string(pid));
    std::vector<std::string> files;
    for (const std::string& f : executable_files_in_maps(*maps))
        files.push_back(proc + "/root" + f);
    return files;
}

std::string path_in_process(const std::string& path, uint32_t pid) {
    std::string root = "/proc/" + std::to_string(pid) + "/root";
    return path.rfind(root, 0) == 0 && path.size() > root.size() ? path.substr(root.size()) : path;
}

std::string uprobe_target_at(const std::string& path, uint64_t offset) {
    char at[32];
    std::snprintf(at, sizeof at, ":0x%llx", static_cast<unsigned long long>(offset));
    return path + at;
}

void add_function_uprobes(AttachWay& way, const std::string& path, int pid,
                          std::span<const FunctionProbe> functions, const std::string& hint) {
    std::set<uint64_t> offsets; // aliases probed once
    for (const FunctionProbe& p : functions) {
        std::optional<uint64_t> offset = function_offset(path, p.function);
        if (!offset) {
            if (p.required) throw RuntimeError(path + " defines no " + p.function + " " + hint);
            continue;
        }
        if (!offsets.insert(*offset).second) continue;
        std::string target = uprobe_target_at(path, *offset);
        AttachPoint entry{p.entry, AttachKind::uprobe, target};
        entry.pid = pid;
        way.points.push_back(entry);
        if (*p.ret) {
            AttachPoint ret{p.ret, AttachKind::uretprobe, target};
            ret.pid = pid;
            way.points.push_back(ret);
        }
    }
}

} // namespace corescope
