#include "symbolizer.h"
#include "text_file.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>

namespace corescope {

namespace {

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return buf;
}

std::string_view base_name(std::string_view path) {
    size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool is_hex_digit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// Rust legacy symbols are Itanium-mangled paths whose last element is
// "h" and 16 hex digits of hash: "core::fmt::write::h0123456789abcdef".
bool strip_rust_hash(std::string& name) {
    constexpr size_t hash_len = 16;
    constexpr size_t suffix_len = 3 + hash_len; // "::h" + hash
    if (name.size() <= suffix_len) return false;
    size_t at = name.size() - suffix_len;
    if (name.compare(at, 3, "::h") != 0) return false;
    for (size_t i = at + 3; i < name.size(); i++)
        if (!is_hex_digit(name[i])) return false;
    name.resize(at);
    return true;
}

// Decodes the escapes Rust legacy mangling puts into path elements
// ($LT$ for '<', $u20$ for ' ', ".." for "::", a leading "_$").
std::string decode_rust_escapes(std::string_view in) {
    static const std::pair<std::string_view, std::string_view> escapes[] = {
        {"$SP$", "@"}, {"$BP$", "*"}, {"$RF$", "&"}, {"$LT$", "<"},
        {"$GT$", ">"}, {"$LP$", "("}, {"$RP$", ")"}, {"$C$", ","},
    };
    std::string out;
    size_t i = 0;
    bool element_start = true;
    while (i < in.size()) {
        if (element_start && in.compare(i, 2, "_$") == 0) i++;
        element_start = false;
        if (in[i] == '$') {
            bool decoded = false;
            for (const auto& [code, text] : escapes) {
                if (in.compare(i, code.size(), code) == 0) {
                    out += text;
                    i += code.size();
                    decoded = true;
                    break;
                }
            }
            if (!decoded && in.compare(i, 2, "$u") == 0) {
                size_t end = in.find('$', i + 2);
                if (end != std::string_view::npos && end > i + 2 && end - i - 2 <= 6) {
                    unsigned long cp = std::strtoul(
                        std::string(in.substr(i + 2, end - i - 2)).c_str(), nullptr, 16);
                    if (cp > 0 && cp < 0x80) {
                        out += static_cast<char>(cp);
                        i = end + 1;
                        decoded = true;
                    }
                }
            }
            if (decoded) continue;
        }
        if (in.compare(i, 2, "..") == 0) {
            out += "::";
            i += 2;
            element_start = true;
            continue;
        }
        if (in.compare(i, 2, "::") == 0) {
            out += "::";
            i += 2;
            element_start = true;
            continue;
        }
        out += in[i++];
    }
    return out;
}

const Dwfl_Callbacks dwfl_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = nullptr,
};

} // namespace

uint64_t kernel_symbol_address(std::string_view name, const std::string& kallsyms) {
    std::optional<std::string> symbols = read_text_file(kallsyms);
    if (!symbols) return 0;
    for (std::string_view line : split_lines(*symbols)) {
        std::vector<std::string_view> w = split_words(line);
        if (w.size() >= 3 && w[2] == name) {
            uint64_t value = std::strtoull(std::string(w[0]).c_str(), nullptr, 16);
            if (value) return value;
        }
    }
    return 0;
}

std::string demangle(std::string_view name) {
    if (name.substr(0, 2) != "_Z") return std::string(name);
    std::string mangled(name);
    int status = 0;
    char* text = abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status);
    if (status != 0 || text == nullptr) {
        std::free(text);
        return mangled;
    }
    std::string out(text);
    std::free(text);
    if (strip_rust_hash(out)) out = decode_rust_escapes(out);
    return out;
}

std::string symbol_label(const Symbol& symbol, bool show_offset) {
    if (symbol.known()) {
        if (show_offset && symbol.offset) return symbol.name + "+" + hex(symbol.offset);
        return symbol.name;
    }
    if (!symbol.module.empty())
        return std::string(base_name(symbol.module)) + "+" + hex(symbol.module_offset);
    return "[unknown]";
}

// One ELF file, opened once for every process that maps it, reported to its
// own libdwfl session at its link-time addresses (bias 0).
class Symbolizer::ElfModule {
  public:
    static std::unique_ptr<ElfModule> open(const std::string& name, const std::string& file) {
        Dwfl* dwfl = dwfl_begin(&dwfl_callbacks);
        if (dwfl == nullptr) return nullptr;
        dwfl_report_begin(dwfl);
        Dwfl_Module* mod = dwfl_report_elf(dwfl, name.c_str(), file.c_str(), -1, 0, true);
        dwfl_report_end(dwfl, nullptr, nullptr);
        if (mod == nullptr) {
            dwfl_end(dwfl);
            return nullptr;
        }
        auto module = std::unique_ptr<ElfModule>(new ElfModule(dwfl, mod));
        if (!module->read_segments()) return nullptr;
        return module;
    }
    ~ElfModule() { dwfl_end(dwfl_); }
    ElfModule(const ElfModule&) = delete;
    ElfModule& operator=(const ElfModule&) = delete;

    // Where a byte at this file offset sits in the file's own address layout.
    uint64_t address_of_file_offset(uint64_t offset) const {
        for (const Segment& s : segments_)
            if (offset >= s.file_offset && offset < s.file_offset + s.file_size)
                return offset - s.file_offset + s.vaddr;
        return offset;
    }

    // The function containing address (link-time layout); false if none.
    bool lookup(uint64_t address, Symbol& symbol) {
        if (!functions_loaded_) load_functions();
        auto after = std::upper_bound(functions_.begin(), functions_.end(), address,
                                      [](uint64_t a, const Function& f) { return a < f.start; });
        if (after == functions_.begin()) return false;
        Function& found = *(after - 1);
        // Past the end of a sized function: padding, or code without a symbol.
        if (found.size && address >= found.start + found.size) return false;
        if (found.name.empty()) found.name = demangle(found.raw_name);
        symbol.name = found.name;
        symbol.offset = address - found.start;
        return true;
    }

  private:
    struct Segment {
        uint64_t file_offset, file_size, vaddr;
    };
    struct Function {
        uint64_t start, size;
        const char* raw_name; // in the ELF file's string table, alive with dwfl_
        int rank;             // which of several names at one address to show
        std::string name;     // demangled on first use
    };

    // All function symbols, sorted once: libdwfl's own address lookup scans
    // the whole table on every call, too slow for thousands of frames.
    void load_functions() {
        functions_loaded_ = true;
        int count = dwfl_module_getsymtab(mod_);
        for (int i = 1; i < count; i++) {
            GElf_Sym sym;
            GElf_Addr address = 0;
            const char* name =
                dwfl_module_getsym_info(mod_, i, &sym, &address, nullptr, nullptr, nullptr);
            if (name == nullptr || *name == '\0' || sym.st_shndx == SHN_UNDEF || address == 0)
                continue;
            int type = GELF_ST_TYPE(sym.st_info);
            if (type != STT_FUNC && type != STT_GNU_IFUNC) continue;
            int bind = GELF_ST_BIND(sym.st_info);
            int rank = bind == STB_GLOBAL ? 2 : bind == STB_WEAK ? 1 : 0;
            functions_.push_back({address, sym.st_size, name, rank, {}});
        }
        // At one address the global name wins over weak and local aliases;
        // lookup takes the last of equal starts.
        std::sort(functions_.begin(), functions_.end(), [](const Function& a, const Function& b) {
            if (a.start != b.start) return a.start < b.start;
            if (a.rank != b.rank) return a.rank < b.rank;
            return std::strcmp(a.raw_name, b.raw_name) > 0;
        });
    }
    ElfModule(Dwfl* dwfl, Dwfl_Module* mod) : dwfl_(dwfl), mod_(mod) {}

    bool read_segments() {
        GElf_Addr bias = 0;
        Elf* elf = dwfl_module_getelf(mod_, &bias);
        if (elf == nullptr) return false;
        size_t count = 0;
        if (elf_getphdrnum(elf, &count) != 0) return false;
        for (size_t i = 0; i < count; i++) {
            GElf_Phdr phdr;
            if (gelf_getphdr(elf, static_cast<int>(i), &phdr) == nullptr) continue;
            if (phdr.p_type == PT_LOAD)
                segments_.push_back({phdr.p_offset, phdr.p_filesz, phdr.p_vaddr});
        }
        return true;
    }

    Dwfl* dwfl_;
    Dwfl_Module* mod_;
    std::vector<Segment> segments_;
    std::vector<Function> functions_;
    bool functions_loaded_ = false;
};

Symbolizer::Symbolizer() = default;
Symbolizer::~Symbolizer() = default;

void Symbolizer::load_kallsyms() {
    if (kallsyms_loaded_) return;
    kallsyms_loaded_ = true;
    FILE* file = std::fopen(kallsyms_path_.c_str(), "re");
    if (file == nullptr) return;
    char line[512];
    bool any_address = false;
    while (std::fgets(line, sizeof line, file)) {
        // "ffffffff81000000 T _stext" or "ffffffffc0a01000 t ext4_fill_super\t[ext4]"
        char* end = nullptr;
        uint64_t address = std::strtoull(line, &end, 16);
        if (end == line || *end != ' ') continue;
        char type = end[1];
        // Only code: text symbols, weak ones included.
        if (type != 't' && type != 'T' && type != 'w' && type != 'W') continue;
        char* name = end + 3;
        size_t name_len = std::strcspn(name, " \t\n");
        KernelSymbol symbol{address, std::string(name, name_len), {}};
        char* bracket = std::strchr(name + name_len, '[');
        if (bracket) {
            size_t module_len = std::strcspn(bracket + 1, "]");
            symbol.module.assign(bracket + 1, module_len);
        }
        if (address) any_address = true;
        kernel_symbols_.push_back(std::move(symbol));
    }
    std::fclose(file);
    if (!any_address) {
        kernel_symbols_.clear(); // kptr_restrict: every address reads as 0
        return;
    }
    std::stable_sort(
        kernel_symbols_.begin(), kernel_symbols_.end(),
        [](const KernelSymbol& a, const KernelSymbol& b) { return a.address < b.address; });
}

bool Symbolizer::kernel_addresses_visible() {
    load_kallsyms();
    return !kernel_symbols_.empty();
}

Symbol Symbolizer::kernel(uint64_t address) {
    load_kallsyms();
    Symbol symbol;
    auto after = std::upper_bound(kernel_symbols_.begin(), kernel_symbols_.end(), address,
                                  [](uint64_t a, const KernelSymbol& s) { return a < s.address; });
    if (after == kernel_symbols_.begin()) return symbol;
    const KernelSymbol& found = *(after - 1);
    symbol.name = found.name;
    symbol.offset = address - found.address;
    symbol.module = found.module.empty() ? "[kernel]" : found.module;
    return symbol;
}

Symbolizer::Process& Symbolizer::process(uint32_t pid) {
    auto it = processes_.find(pid);
    if (it != processes_.end()) return it->second;
    Process& proc = processes_[pid];
    std::optional<std::string> maps = read_text_file("/proc/" + std::to_string(pid) + "/maps");
    if (!maps) return proc;
    proc.readable = true;
    for (std::string_view line_view : split_lines(*maps)) {
        std::string line(line_view);
        // start-end perms offset dev inode   path
        Mapping m{};
        char perms[8] = {};
        char dev[16] = {};
        unsigned long long inode = 0;
        int path_at = 0;
        unsigned long long start = 0, end = 0, offset = 0;
        if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %15s %llu %n", &start, &end, perms,
                        &offset, dev, &inode, &path_at) < 6)
            continue;
        if (path_at <= 0 || static_cast<size_t>(path_at) >= line.size()) continue; // anonymous
        m.start = start;
        m.end = end;
        m.file_offset = offset;
        m.executable = std::strchr(perms, 'x') != nullptr;
        m.path = line.substr(static_cast<size_t>(path_at));
        constexpr std::string_view deleted = " (deleted)";
        if (m.path.size() > deleted.size() &&
            m.path.compare(m.path.size() - deleted.size(), deleted.size(), deleted) == 0)
            m.path.resize(m.path.size() - deleted.size());
        if (inode != 0 && m.path.front() == '/')
            m.module_key = std::string(dev) + " " + std::to_string(inode);
        proc.mappings.push_back(std::move(m));
    }
    std::sort(proc.mappings.begin(), proc.mappings.end(),
              [](const Mapping& a, const Mapping& b) { return a.start < b.start; });
    return proc;
}

Symbolizer::ElfModule* Symbolizer::module_for(uint32_t pid, const Mapping& mapping) {
    if (mapping.module_key.empty()) return nullptr;
    auto it = modules_.find(mapping.module_key);
    if (it != modules_.end()) return it->second.get();
    // Through the process's root first (its mount namespace), then through
    // the mapping itself, which works for deleted and replaced files.
    std::string proc = "/proc/" + std::to_string(pid);
    char range[64];
    std::snprintf(range, sizeof range, "/map_files/%" PRIx64 "-%" PRIx64, mapping.start,
                  mapping.end);
    std::unique_ptr<ElfModule> module =
        ElfModule::open(mapping.path, proc + "/root" + mapping.path);
    if (!module) module = ElfModule::open(mapping.path, proc + range);
    // A file that cannot be read stays unreadable for this run: remember that.
    return (modules_[mapping.module_key] = std::move(module)).get();
}

void Symbolizer::remember(uint32_t pid) {
    if (processes_.count(pid)) return;
    for (const Mapping& mapping : process(pid).mappings)
        if (mapping.executable) module_for(pid, mapping);
}

Symbol Symbolizer::user(uint32_t pid, uint64_t address) {
    Symbol symbol;
    Process& proc = process(pid);
    auto after = std::upper_bound(proc.mappings.begin(), proc.mappings.end(), address,
                                  [](uint64_t a, const Mapping& m) { return a < m.start; });
    if (after == proc.mappings.begin()) return symbol;
    const Mapping& mapping = *(after - 1);
    if (address >= mapping.end) return symbol;
    symbol.module = mapping.path;
    uint64_t file_offset = address - mapping.start + mapping.file_offset;
    symbol.module_offset = file_offset;
    // Code runs only from executable mappings: an address elsewhere (a
    // frame-pointer walk through code built without frame pointers) gets
    // no name rather than that of whatever function precedes the data.
    if (!mapping.executable) return symbol;
    ElfModule* module = module_for(pid, mapping);
    if (module == nullptr) return symbol;
    symbol.module_offset = module->address_of_file_offset(file_offset);
    module->lookup(symbol.module_offset, symbol);
    return symbol;
}

} // namespace corescope
