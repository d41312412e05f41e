// The files that user-space probes go in: which library or program file a
// process uses (reached through /proc/PID/root, so a process in a container
// is probed in its own files), the system's own when no process is named,
// and a function's place in such a file. gethostlatency, threadsnoop and
// triage (the C library), bashreadline (bash or libreadline) and sslsniff
// (libssl) find their targets so.
#pragma once

#include "attach_plan.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace corescope {

// A library or program file wanted in processes.
struct UserFile {
    // For messages: "the C library", "libssl".
    std::string what;
    // Whether a file name (the last part of a path) is one of it.
    std::function<bool(std::string_view name)> matches;
    // Where systems keep it, in order: the system's own when this process
    // maps none (it is not linked to it, or is linked statically).
    std::vector<std::string> usual_places;
    // The option that names it ("--libc PATH"), for the messages.
    std::string option;
};

// Whether name is the shared library stem's file: "libssl" matches
// libssl.so, libssl.so.3 and libssl-1.1.so, not libssl3.so.
bool is_shared_library(std::string_view name, std::string_view stem);

// The first file of maps text (/proc/PID/maps) whose name matches, as a path
// in that process's mount namespace; empty when none does.
std::string file_in_maps(std::string_view maps,
                         const std::function<bool(std::string_view)>& matches);

// The files of maps text mapped executable, each once, in maps order, as
// paths in that process's mount namespace (tplist -p: their USDT probes).
std::vector<std::string> executable_files_in_maps(std::string_view maps);

// The files process pid maps executable, as paths through its root
// (/proc/PID/root/PATH). Throws RuntimeError when there is no such process.
std::vector<std::string> executable_files_of_process(uint32_t pid);

// A path through a process's root (/proc/PID/root/PATH) as the process
// names it (/PATH); any other path as it is.
std::string path_in_process(const std::string& path, uint32_t pid);

// The files to probe: given when not empty (the option's value); else the
// one each of pids maps, as /proc/PID/root/PATH; else the one this process
// maps, or the first usual place that exists. The same file reached by two
// paths is listed once. Throws RuntimeError naming what is missing (no such
// process, a process that maps none, no file in the usual places).
std::vector<std::string> user_file_paths(const UserFile& file, const std::string& given,
                                         const std::vector<uint32_t>& pids);

// Where function is in the ELF file at path, as its file offset, read from
// the dynamic symbols, else the symbol table; nullopt when the file defines
// no such function (or cannot be read).
std::optional<uint64_t> function_offset(const std::string& path, std::string_view function);

// A uprobe target's function part for function in path: "0xFILE_OFFSET"
// (glibc 2.34 and later define some functions twice, pthread_create@GLIBC_2.2.5
// and @@GLIBC_2.34 at one address, which libbpf 1.1 refuses to choose
// between); the plain name when the file defines none (libbpf then says why
// it fails).
std::string uprobe_target_in(const std::string& path, std::string_view function);

// A uprobe's target at a file offset in path: "PATH:0xOFFSET".
std::string uprobe_target_at(const std::string& path, uint64_t offset);

// A function of a library to probe: its entry program, its return program
// (empty: none), and whether the library must define it.
struct FunctionProbe {
    const char* function;
    const char* entry;
    const char* ret;
    bool required;
};

// The uprobes (and uretprobes) of functions in the library at path, for
// process pid (-1: every process), added to way: each file offset once
// (aliases such as memalign and aligned_alloc share one), a function the
// library lacks left out. A required one it lacks throws RuntimeError
// "PATH defines no FUNCTION " followed by hint (what to do).
void add_function_uprobes(AttachWay& way, const std::string& path, int pid,
                          std::span<const FunctionProbe> functions, const std::string& hint);

} // namespace corescope
