// The C library, for the tools that put uprobes in it (gethostlatency,
// threadsnoop, triage): where it is, the --libc option, a function's place
// in it, and the attach points of its host name lookups (getaddrinfo,
// gethostbyname, gethostbyname2).
#pragma once

#include "attach_plan.h"
#include "cli.h"
#include "user_files.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace corescope {

// The probed functions, in the order of their numbers in BPF events.
inline constexpr const char* host_lookup_functions[] = {"getaddrinfo", "gethostbyname",
                                                        "gethostbyname2"};

// The C libraries to probe: libc_option when given (--libc), else the one
// each of pids has mapped (reached through /proc/PID/root, so containers
// work), else the system's own (this process's, or where Debian, Fedora and
// Alpine keep it, for a static build). The same file reached by two paths is
// listed once. Throws RuntimeError saying what is missing.
std::vector<std::string> libc_paths(const std::string& libc_option = {},
                                    const std::vector<uint32_t>& pids = {});

// --libc PATH: a regular file, or exit 2 naming it; help says what is done
// with it ("(default: the one processes use)" is added).
void add_libc_option(CommandLine& cli, std::string& libc_option, const std::string& help);

// One way to trace lookups: on each library, an entry uprobe on each
// function (the program entry_program(function) names) and a return uprobe
// (return_program).
AttachWay host_lookup_uprobes(const std::vector<std::string>& libcs,
                              const std::function<std::string(std::string_view)>& entry_program,
                              const std::string& return_program);

} // namespace corescope
