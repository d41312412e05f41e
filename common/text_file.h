// Small text files of the kernel (/proc, /sys), read with plain system
// calls. std::ifstream would bring in the C++ locale machinery, whose first
// use costs a tool about half a millisecond of start-up (opensnoop
// --dry-run: 11.4 -> 10.9 ms) and pages of memory.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corescope {

// The whole file; nullopt when it cannot be opened or read.
std::optional<std::string> read_text_file(const std::string& path);

// Its first line, without the newline; nullopt as above.
std::optional<std::string> read_first_line(const std::string& path);

// The names of a directory's subdirectories (tracefs' events/*), sorted,
// without the dot entries; none when it cannot be read.
std::vector<std::string> subdirectories(const std::string& dir);

// A process's name (/proc/PID/comm); empty when it is gone.
std::string process_comm(uint32_t pid);

// Process names (process_comm), each kept once read, so that a process that
// has since exited is still named (memleak's stacks, printed each interval).
class ProcessNames {
  public:
    // Empty when the process is gone and was never read.
    std::string of(uint32_t pid) {
        auto it = names_.find(pid);
        if (it != names_.end()) return it->second;
        std::string comm = process_comm(pid);
        if (!comm.empty()) names_[pid] = comm;
        return comm;
    }

  private:
    std::map<uint32_t, std::string> names_;
};

// A file of "name value" lines (/proc/meminfo's "Name: value kB",
// /proc/vmstat's "name value"): each name, without its colon, and its first
// number. Empty when the file cannot be read.
std::map<std::string, uint64_t> read_name_values(const std::string& path);

// The lines of text, without their newlines; views into text.
std::vector<std::string_view> split_lines(std::string_view text);

// The words of a line, split at runs of spaces and tabs; views into line.
std::vector<std::string_view> split_words(std::string_view line);

// /proc/loadavg as the top-like tools print it, "0.12 0.08 0.03 2/345 6789"
// (without its newline); empty when it cannot be read.
std::string load_average(const std::string& path = "/proc/loadavg");

} // namespace corescope
