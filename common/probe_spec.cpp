#include "probe_spec.h"
#include "user_files.h"

#include "errors.h"
#include "kernel_features.h"
#include "text_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <libelf.h>
#include <regex.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace corescope {

namespace {

std::vector<std::string> split_colons(std::string_view text) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        size_t colon = text.find(':', start);
        parts.emplace_back(text.substr(start, colon - start));
        if (colon == std::string_view::npos) break;
        start = colon + 1;
    }
    return parts;
}

[[noreturn]] void bad_spec(std::string_view text, const std::string& why) {
    throw UsageError("invalid probe '" + std::string(text) + "': " + why);
}

bool is_regular_file(const std::string& path) {
    struct stat st {};
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Does a mapped file's base name stand for the library name ("c" for
// libc.so.6, "funcwork" for libfuncwork.so, "libc.so.6" itself)?
bool library_name_matches(std::string_view base, const std::string& name) {
    if (base == name) return true;
    std::string lib = name.rfind("lib", 0) == 0 ? name : "lib" + name;
    if (base.rfind(lib, 0) != 0) return false;
    std::string_view rest = base.substr(lib.size());
    return rest.rfind(".so", 0) == 0 || (rest.rfind("-", 0) == 0 && rest.find(".so") != rest.npos);
}

// The library a maps file names (common/user_files.h reads the maps).
std::string library_in_maps(const std::string& maps_path, const std::string& name) {
    return file_in_maps(read_text_file(maps_path).value_or(""),
                        [&](std::string_view file) { return library_name_matches(file, name); });
}

std::string library_in_directories(const std::string& name) {
    for (const char* dir : {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
                            "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64",
                            "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib"}) {
        DIR* d = opendir(dir);
        if (!d) continue;
        std::vector<std::string> found;
        while (struct dirent* e = readdir(d))
            if (library_name_matches(e->d_name, name)) found.push_back(e->d_name);
        closedir(d);
        // The versioned file (libc.so.6) before the development link
        // (libc.so, sometimes a linker script).
        std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) {
            return a.size() != b.size() ? a.size() > b.size() : a < b;
        });
        for (const std::string& f : found) {
            std::string path = std::string(dir) + "/" + f;
            if (is_regular_file(path)) return path;
        }
    }
    return {};
}

// An ELF file open for reading; throws RuntimeError when it is not one.
struct ElfFile {
    int fd = -1;
    Elf* elf = nullptr;
    explicit ElfFile(const std::string& path) {
        fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw RuntimeError(errno_message("cannot open " + path, errno));
        elf_version(EV_CURRENT);
        elf = elf_begin(fd, ELF_C_READ, nullptr);
        if (!elf || elf_kind(elf) != ELF_K_ELF) {
            if (elf) elf_end(elf);
            close(fd);
            throw RuntimeError(path + " is not an ELF file");
        }
    }
    ~ElfFile() {
        elf_end(elf);
        close(fd);
    }
    ElfFile(const ElfFile&) = delete;
    ElfFile& operator=(const ElfFile&) = delete;
};

} // namespace

ProbeSpec parse_probe_spec(std::string_view text) {
    ProbeSpec spec;
    spec.text = std::string(text);
    if (text.empty()) bad_spec(text, "empty");
    std::vector<std::string> parts = split_colons(text);
    auto no_empty = [&](size_t from, const char* what) {
        for (size_t i = from; i < parts.size(); i++)
            if (parts[i].empty()) bad_spec(text, std::string("no ") + what);
    };
    if (parts.size() == 1) {
        spec.type = ProbeType::kernel;
        spec.pattern = parts[0];
    } else if (parts[0] == "t") {
        if (parts.size() != 3) bad_spec(text, "a tracepoint is t:CATEGORY:EVENT");
        no_empty(1, "category or event");
        spec.type = ProbeType::tracepoint;
        spec.pattern = parts[1] + ":" + parts[2];
    } else if (parts[0] == "u") {
        if (parts.size() != 3 && parts.size() != 4)
            bad_spec(text, "a USDT probe is u:LIB:PROBE or u:LIB:PROVIDER:PROBE");
        no_empty(1, "library or probe");
        spec.type = ProbeType::usdt;
        spec.library = parts[1];
        spec.pattern = parts.size() == 4 ? parts[2] + ":" + parts[3] : parts[2];
    } else if (parts[0] == "p" && parts.size() == 3) {
        if (parts[2].empty()) bad_spec(text, "no function");
        spec.type = parts[1].empty() ? ProbeType::kernel : ProbeType::user;
        spec.library = parts[1];
        spec.pattern = parts[2];
    } else if (parts.size() == 2) {
        no_empty(0, "library or function");
        spec.type = ProbeType::user;
        spec.library = parts[0];
        spec.pattern = parts[1];
    } else {
        bad_spec(text, "expected FUNCTION, LIB:FUNCTION, t:CATEGORY:EVENT or u:LIB:PROBE");
    }
    if (spec.pattern.empty()) bad_spec(text, "no function");
    return spec;
}

NameMatcher::NameMatcher(std::string pattern, bool regex)
    : pattern_(std::move(pattern)), regex_(regex),
      literal_(!regex && pattern_.find_first_of("*?[") == std::string::npos) {
    if (!regex_) return;
    auto* compiled = new regex_t;
    int err = regcomp(compiled, pattern_.c_str(), REG_EXTENDED | REG_NOSUB);
    if (err != 0) {
        char why[128];
        regerror(err, compiled, why, sizeof why);
        delete compiled;
        throw UsageError("invalid regular expression '" + pattern_ + "': " + why);
    }
    compiled_ = std::shared_ptr<void>(compiled, [](void* p) {
        regfree(static_cast<regex_t*>(p));
        delete static_cast<regex_t*>(p);
    });
}

bool NameMatcher::matches(std::string_view name) const {
    std::string n(name);
    if (regex_)
        return regexec(static_cast<regex_t*>(compiled_.get()), n.c_str(), 0, nullptr, 0) == 0;
    if (literal_) return n == pattern_;
    return fnmatch(pattern_.c_str(), n.c_str(), 0) == 0;
}

PairFilter::PairFilter(const std::string& pattern)
    : whole_(pattern.find(':') != std::string::npos) {
    if (!pattern.empty()) matcher_.emplace(pattern, false);
}

bool PairFilter::takes(std::string_view first, std::string_view second) const {
    if (!matcher_) return true;
    if (whole_) return matcher_->matches(std::string(first) + ":" + std::string(second));
    return matcher_->matches(first) || matcher_->matches(second);
}

std::string find_user_library(const std::string& library, const std::vector<uint32_t>& pids) {
    std::string root = pids.empty() ? "" : "/proc/" + std::to_string(pids.front()) + "/root";
    if (!pids.empty() && access(("/proc/" + std::to_string(pids.front())).c_str(), F_OK) != 0)
        throw RuntimeError("no process " + std::to_string(pids.front()));
    if (library.find('/') != std::string::npos) {
        // An absolute path is in the process's own file system; a relative
        // one is the user's, from the current directory.
        std::string path = library[0] == '/' ? root + library : library;
        if (!is_regular_file(path)) throw RuntimeError("no library or executable " + path);
        return path;
    }
    for (uint32_t pid : pids) {
        std::string proc = "/proc/" + std::to_string(pid);
        std::string path = library_in_maps(proc + "/maps", library);
        if (!path.empty()) return proc + "/root" + path;
    }
    if (!pids.empty())
        throw RuntimeError("cannot find library '" + library + "': process " +
                           std::to_string(pids.front()) + " does not map it");
    std::string path = library_in_maps("/proc/self/maps", library);
    if (path.empty()) path = library_in_directories(library);
    if (path.empty())
        throw RuntimeError("cannot find library '" + library + "' (lib" +
                           (library.rfind("lib", 0) == 0 ? library.substr(3) : library) +
                           ".so* in the usual library directories); give its path");
    return path;
}

std::vector<ElfFunction> elf_functions(const std::string& path) {
    ElfFile file(path);
    std::vector<GElf_Phdr> loads;
    size_t headers = 0;
    if (elf_getphdrnum(file.elf, &headers) == 0)
        for (size_t i = 0; i < headers; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(file.elf, static_cast<int>(i), &ph) && ph.p_type == PT_LOAD &&
                (ph.p_flags & PF_X))
                loads.push_back(ph);
        }
    std::vector<ElfFunction> functions;
    std::set<uint64_t> seen;
    for (Elf_Scn* scn = nullptr; (scn = elf_nextscn(file.elf, scn));) {
        GElf_Shdr shdr;
        if (!gelf_getshdr(scn, &shdr) || (shdr.sh_type != SHT_SYMTAB && shdr.sh_type != SHT_DYNSYM))
            continue;
        Elf_Data* data = elf_getdata(scn, nullptr);
        for (size_t i = 0; data && shdr.sh_entsize && i < shdr.sh_size / shdr.sh_entsize; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(data, static_cast<int>(i), &sym)) continue;
            if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF ||
                sym.st_value == 0)
                continue;
            const char* name = elf_strptr(file.elf, shdr.sh_link, sym.st_name);
            if (!name || !*name) continue;
            for (const GElf_Phdr& ph : loads) {
                if (sym.st_value < ph.p_vaddr || sym.st_value >= ph.p_vaddr + ph.p_filesz) continue;
                uint64_t offset = sym.st_value - ph.p_vaddr + ph.p_offset;
                if (seen.insert(offset).second) functions.push_back({name, offset});
                break;
            }
        }
    }
    return functions;
}

std::vector<UsdtNote> usdt_notes(const std::string& path) {
    ElfFile file(path);
    unsigned address_size = gelf_getclass(file.elf) == ELFCLASS32 ? 4 : 8;
    const char* ident = elf_getident(file.elf, nullptr);
    bool big_endian = ident && ident[EI_DATA] == ELFDATA2MSB;
    std::vector<UsdtNote> notes;
    for (Elf_Scn* scn = nullptr; (scn = elf_nextscn(file.elf, scn));) {
        GElf_Shdr shdr;
        if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_NOTE) continue;
        // The bytes as in the file: usdt_notes.h reads them in its byte order.
        Elf_Data* data = elf_rawdata(scn, nullptr);
        if (!data || !data->d_buf) continue;
        std::vector<UsdtNote> found = parse_stapsdt_notes(
            {static_cast<const uint8_t*>(data->d_buf), data->d_size}, address_size, big_endian);
        notes.insert(notes.end(), found.begin(), found.end());
    }
    return notes;
}

std::vector<UsdtProbe> usdt_probes(const std::string& path) {
    std::vector<UsdtProbe> probes;
    std::set<std::pair<std::string, std::string>> seen;
    for (const UsdtNote& note : usdt_notes(path))
        if (seen.insert({note.provider, note.name}).second)
            probes.push_back({note.provider, note.name});
    return probes;
}

std::vector<ProbeTarget> matching_tracepoints(const std::string& tracefs_dir,
                                              const NameMatcher& category,
                                              const NameMatcher& event) {
    std::vector<ProbeTarget> found;
    std::string events = tracefs_dir + "/events";
    for (const std::string& cat : subdirectories(events)) {
        if (!category.matches(cat)) continue;
        for (const std::string& n : subdirectories(events + "/" + cat))
            if (event.matches(n)) found.push_back({cat + ":" + n, cat + ":" + n});
    }
    return found;
}

std::vector<ProbeTarget> matching_kernel_functions(const std::string& tracefs_dir,
                                                   const NameMatcher& name) {
    std::vector<ProbeTarget> found;
    std::set<std::string> seen;
    auto add = [&](std::string_view fn) {
        if (name.matches(fn) && seen.insert(std::string(fn)).second)
            found.push_back({std::string(fn), std::string(fn)});
    };
    std::optional<std::string> list;
    if (!tracefs_dir.empty()) list = read_text_file(tracefs_dir + "/available_filter_functions");
    if (list) {
        // "vfs_read", "md_flush_request [md_mod]"
        for (std::string_view line : split_lines(*list))
            add(line.substr(0, line.find(' ')));
    } else {
        // "ffffffff81234560 T vfs_read", with " [module]" for a module's
        for (std::string_view line : split_lines(read_text_file("/proc/kallsyms").value_or(""))) {
            if (line.size() < 20) continue;
            size_t type_at = line.find(' ');
            if (type_at == std::string_view::npos || type_at + 3 >= line.size()) continue;
            char type = line[type_at + 1];
            if (type != 't' && type != 'T') continue;
            std::string_view rest = line.substr(type_at + 3);
            add(rest.substr(0, rest.find_first_of(" \t")));
        }
    }
    return found;
}

std::vector<ProbeTarget> resolve_probe_spec(const ProbeSpec& spec, bool regex,
                                            const std::vector<uint32_t>& pids,
                                            const std::string& tracefs_dir) {
    std::vector<ProbeTarget> found;
    switch (spec.type) {
    case ProbeType::tracepoint: {
        auto colon = spec.pattern.find(':');
        found = matching_tracepoints(tracefs_dir, NameMatcher(spec.pattern.substr(0, colon), regex),
                                     NameMatcher(spec.pattern.substr(colon + 1), regex));
        if (found.empty())
            throw RuntimeError(tracefs_dir.empty()
                                   ? "tracepoints need tracefs, which is not mounted"
                                   : "no tracepoint matches '" + spec.pattern + "'");
        return found;
    }
    case ProbeType::kernel:
        found = matching_kernel_functions(tracefs_dir, NameMatcher(spec.pattern, regex));
        if (found.empty()) throw RuntimeError("no kernel function matches '" + spec.pattern + "'");
        return found;
    case ProbeType::user: {
        std::string path = find_user_library(spec.library, pids);
        NameMatcher matcher(spec.pattern, regex);
        for (const ElfFunction& f : elf_functions(path)) {
            if (!matcher.matches(f.name)) continue;
            char offset[32];
            std::snprintf(offset, sizeof offset, "0x%llx",
                          static_cast<unsigned long long>(f.offset));
            found.push_back({f.name, path + ":" + offset});
        }
        std::sort(found.begin(), found.end(),
                  [](const ProbeTarget& a, const ProbeTarget& b) { return a.label < b.label; });
        if (found.empty())
            throw RuntimeError("no function matches '" + spec.pattern + "' in " + path);
        return found;
    }
    case ProbeType::usdt: {
        std::string path = find_user_library(spec.library, pids);
        bool qualified = spec.pattern.find(':') != std::string::npos;
        NameMatcher matcher(spec.pattern, regex);
        for (const UsdtProbe& p : usdt_probes(path)) {
            std::string full = p.provider + ":" + p.name;
            if (!matcher.matches(qualified ? full : p.name)) continue;
            found.push_back({full, path + ":" + full});
        }
        if (found.empty())
            throw RuntimeError("no USDT probe matches '" + spec.pattern + "' in " + path);
        return found;
    }
    }
    return found;
}

AttachStep probe_attach_step(const ProbeSpec& spec, const ProbePrograms& programs, bool regex,
                             const std::vector<uint32_t>& pids, size_t max_probes,
                             std::vector<std::string>& labels) {
    // Step names have no colon: the guest's checks read the plan's
    // "  STEP: KIND:TARGET" lines.
    const char* program = programs.kernel;
    AttachKind kind = AttachKind::kprobe;
    std::string name = "kernel functions '" + spec.pattern + "'";
    switch (spec.type) {
    case ProbeType::user:
        program = programs.user, kind = AttachKind::uprobe;
        name = "user functions '" + spec.pattern + "'";
        break;
    case ProbeType::tracepoint:
        program = programs.tracepoint, kind = AttachKind::tracepoint, name = "tracepoints";
        break;
    case ProbeType::usdt:
        program = programs.usdt, kind = AttachKind::usdt, name = "USDT probes";
        break;
    case ProbeType::kernel:
        break;
    }
    AttachStep step{name, {}};
    KernelFeatures& features = KernelFeatures::instance();
    if (spec.type == ProbeType::kernel && !features.supports(kind, nullptr)) {
        // Nothing to resolve: the plan says what the kernel lacks.
        step.ways.push_back({{{program, kind, spec.pattern}}});
        return step;
    }
    std::vector<ProbeTarget> targets =
        resolve_probe_spec(spec, regex, pids, features.tracefs_path());
    if (targets.size() > max_probes)
        throw RuntimeError("'" + spec.text + "' matches " + std::to_string(targets.size()) +
                           " probes; at most " + std::to_string(max_probes) +
                           " at a time: narrow the pattern");
    AttachWay way;
    for (size_t i = 0; i < targets.size(); i++) {
        labels.push_back(targets[i].label);
        AttachPoint point{program, kind, targets[i].target};
        point.cookie = i;
        way.points.push_back(point);
    }
    step.ways.push_back(std::move(way));
    return step;
}

} // namespace corescope
