// Turns instruction addresses into function names: kernel addresses through
// /proc/kallsyms (read and sorted once), user addresses of a process through
// its /proc/PID/maps and the ELF files mapped there (elfutils libdwfl), with
// C++ and Rust (legacy) names demangled.
//
// Files are opened through /proc/PID/root, so processes in containers and
// other mount namespaces get names too, and through /proc/PID/map_files when
// the binary was deleted or replaced. Each process's mappings are read once,
// and each ELF file (by device and inode) is opened once however many
// processes map it. A process that is gone, an address in no mapping, or a
// file that cannot be read gives a Symbol without a name, never an error.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace corescope {

struct Symbol {
    std::string name;           // the function, demangled; empty when unknown
    uint64_t offset = 0;        // address minus the function's start
    std::string module;         // "[kernel]", a kernel module's name, or the file's path
    uint64_t module_offset = 0; // for user addresses: the address in the file's own layout
    bool known() const { return !name.empty(); }
};

// "name+0x1a" (or "name" when offset is 0 or show_offset is false) for a
// known symbol; "libc.so.6+0x2a1c0" (the module's base name) when only the
// module is known; "[unknown]" otherwise.
std::string symbol_label(const Symbol& symbol, bool show_offset = false);

// The readable form of a mangled name: Itanium C++ (_Z...) through the C++
// runtime's demangler, Rust legacy names the same way minus the trailing
// ::h<hash> and with their $..$ escapes decoded. Other names come back as
// they are.
std::string demangle(std::string_view name);

// The address of a kernel symbol by name, from kallsyms (the first with a
// nonzero address); 0 when there is none or addresses are hidden. Data
// symbols such as locks are there only with CONFIG_KALLSYMS_ALL.
uint64_t kernel_symbol_address(std::string_view name,
                               const std::string& kallsyms = "/proc/kallsyms");

class Symbolizer {
  public:
    Symbolizer();
    ~Symbolizer();
    Symbolizer(const Symbolizer&) = delete;
    Symbolizer& operator=(const Symbolizer&) = delete;

    Symbol kernel(uint64_t address);
    Symbol user(uint32_t pid, uint64_t address);

    // Reads a process's mappings and opens the files of its code now, so its
    // addresses resolve after it exits (a tool calls this when it first sees
    // a PID). Later calls do nothing.
    void remember(uint32_t pid);

    // False when /proc/kallsyms shows no addresses (kptr_restrict, or not
    // root): kernel() then says nothing but "[unknown]".
    bool kernel_addresses_visible();

    // Reads kallsyms from another file (tests).
    void set_kallsyms_path(std::string path) { kallsyms_path_ = std::move(path); }

  private:
    struct KernelSymbol {
        uint64_t address;
        std::string name;
        std::string module; // empty for the kernel image
    };
    struct Mapping {
        uint64_t start, end, file_offset;
        std::string path;       // as /proc/PID/maps shows it, " (deleted)" removed
        std::string module_key; // device and inode; empty for anonymous and [vdso]
        bool executable = false;
    };
    struct Process {
        std::vector<Mapping> mappings; // sorted by start
        bool readable = false;
    };
    class ElfModule;

    void load_kallsyms();
    Process& process(uint32_t pid);
    ElfModule* module_for(uint32_t pid, const Mapping& mapping);

    std::string kallsyms_path_ = "/proc/kallsyms";
    bool kallsyms_loaded_ = false;
    std::vector<KernelSymbol> kernel_symbols_; // sorted by address
    std::map<uint32_t, Process> processes_;
    std::map<std::string, std::unique_ptr<ElfModule>> modules_; // by module_key
};

} // namespace corescope
