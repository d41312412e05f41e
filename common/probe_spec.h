// Probe specifications, as funccount, funclatency (and later stackcount and
// trace) take them, and their resolution to attach points:
//
//   PATTERN            kernel functions (kprobes or fentry, where the kernel has them)
//   p::PATTERN         the same
//   LIB:PATTERN        user functions of a library or executable (p:LIB:PATTERN too);
//                      LIB is a path, or a name: "c" is libc, "foo" libfoo.so
//   t:CAT:EVENT        tracepoints
//   u:LIB:PROBE        USDT probes (PROBE or PROVIDER:PROBE)
//
// PATTERN matches names as a shell glob (* and ?), or as an extended regular
// expression searched in the name with -r.
#pragma once

#include "attach_plan.h"
#include "usdt_notes.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corescope {

enum class ProbeType { kernel, user, tracepoint, usdt };

struct ProbeSpec {
    ProbeType type = ProbeType::kernel;
    std::string library; // user and usdt: as given ("c", "/usr/bin/bash")
    std::string pattern; // the name pattern; tracepoints "CATEGORY:EVENT"
    std::string text;    // the whole spec, as given
};

// Throws UsageError naming the spec when it is malformed.
ProbeSpec parse_probe_spec(std::string_view text);

// Does name match pattern (a glob, or with regex an ECMAScript-free POSIX
// extended expression searched in name)? A regex that does not compile
// throws UsageError.
class NameMatcher {
  public:
    NameMatcher(std::string pattern, bool regex);
    bool matches(std::string_view name) const;
    bool literal() const { return literal_; } // no wildcard: one exact name

  private:
    std::string pattern_;
    bool regex_;
    bool literal_;
    std::shared_ptr<void> compiled_; // regex_t
};

// A glob over two-part names (CATEGORY:EVENT, PROVIDER:NAME): with a colon
// it matches the whole name, without one either part; an empty pattern
// takes every name.
class PairFilter {
  public:
    explicit PairFilter(const std::string& pattern);
    bool takes(std::string_view first, std::string_view second) const;

  private:
    std::optional<NameMatcher> matcher_;
    bool whole_ = false;
};

// The file a user-space probe goes in: a path (through /proc/PID/root for
// the first of pids, so a container's own file), or a library name looked
// for in the maps of pids, then this process's maps, then the usual library
// directories. Throws RuntimeError saying what was looked where.
std::string find_user_library(const std::string& library, const std::vector<uint32_t>& pids = {});

struct ElfFunction {
    std::string name;
    uint64_t offset; // in the file, what a uprobe takes
};

// The defined functions of an ELF file's .symtab and .dynsym, one per file
// offset (the first name found; aliases share an offset), in file order.
// Throws RuntimeError when the file is not ELF.
std::vector<ElfFunction> elf_functions(const std::string& path);

struct UsdtProbe {
    std::string provider;
    std::string name;
};

// The USDT probes (SystemTap .note.stapsdt notes) of an ELF file, each
// provider and name once. Throws RuntimeError when the file is not ELF.
std::vector<UsdtProbe> usdt_probes(const std::string& path);
// Every stapsdt note of an ELF file (a probe with several sites has a note
// each), in file order (common/usdt_notes.h parses them). Throws
// RuntimeError when the file is not ELF.
std::vector<UsdtNote> usdt_notes(const std::string& path);

// One attach point of a resolved spec.
struct ProbeTarget {
    std::string label;  // what the user sees: "fc_alpha", "syscalls:sys_enter_read"
    std::string target; // for the attach plan: "PATH:0xOFFSET", "CAT:EVENT",
                        // "PATH:PROVIDER:NAME", a kernel function
};

// The tracepoints of tracefs_dir/events whose "CATEGORY:EVENT" matches.
std::vector<ProbeTarget> matching_tracepoints(const std::string& tracefs_dir,
                                              const NameMatcher& category,
                                              const NameMatcher& event);
// The kernel functions that can be probed (available_filter_functions of
// tracefs, else /proc/kallsyms' text symbols) whose name matches.
std::vector<ProbeTarget> matching_kernel_functions(const std::string& tracefs_dir,
                                                   const NameMatcher& name);

// A spec's attach points (user, tracepoint and usdt specs; kernel functions
// through matching_kernel_functions). Throws RuntimeError when the library
// is missing or nothing matches, saying what was searched.
std::vector<ProbeTarget> resolve_probe_spec(const ProbeSpec& spec, bool regex,
                                            const std::vector<uint32_t>& pids,
                                            const std::string& tracefs_dir);

// The BPF programs (their names in the tool's skeleton) a tool that counts
// at probes runs for each type of probe: funccount, stackcount.
struct ProbePrograms {
    const char* user;       // SEC("uprobe")
    const char* tracepoint; // SEC("tracepoint")
    const char* usdt;       // SEC("usdt")
    const char* kernel;     // SEC("kprobe")
};

// The attach step of spec: its type's program attached at every probe the
// spec resolves to, probe i with cookie i and named labels[i] (appended).
// Kernel functions on a kernel without kprobes get a step whose plan says
// what is missing, unresolved. Throws RuntimeError as resolve_probe_spec
// does, and past max_probes.
AttachStep probe_attach_step(const ProbeSpec& spec, const ProbePrograms& programs, bool regex,
                             const std::vector<uint32_t>& pids, size_t max_probes,
                             std::vector<std::string>& labels);

} // namespace corescope
