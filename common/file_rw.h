// The system calls bpf/file_rw.bpf.h traces (filetop, dirtop): the read and
// write families, for syscall_tiers().
#pragma once

#include "attach_plan.h"
#include "errors.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corescope {

inline std::vector<SyscallProgram> file_rw_calls() {
    std::vector<SyscallProgram> calls;
    for (const char* call : {"read", "write", "pread64", "pwrite64", "readv", "writev"})
        calls.push_back({call});
    // Absent on some architectures or older kernels.
    for (const char* call : {"preadv", "pwritev", "preadv2", "pwritev2"})
        calls.push_back({call, true, true, true});
    return calls;
}

inline AttachStep file_rw_step() {
    return syscall_tiers("file reads and writes", file_rw_calls());
}

// -s: what the rows are ranked by (libbpf-tools' filetop keys).
enum class FileRwSort { all, reads, writes, rbytes, wbytes };

inline FileRwSort parse_file_rw_sort(std::string_view v) {
    if (v == "all") return FileRwSort::all;
    if (v == "reads") return FileRwSort::reads;
    if (v == "writes") return FileRwSort::writes;
    if (v == "rbytes") return FileRwSort::rbytes;
    if (v == "wbytes") return FileRwSort::wbytes;
    throw UsageError("invalid sort key '" + std::string(v) +
                     "' (all, reads, writes, rbytes or wbytes)");
}

// A row's rank under -s (greater first), then what breaks its ties: a
// value with the counters reads, writes, read_bytes and write_bytes.
template <class Counters>
std::pair<uint64_t, uint64_t> file_rw_weight(FileRwSort sort, const Counters& v) {
    switch (sort) {
    case FileRwSort::reads:
        return {v.reads, 0};
    case FileRwSort::writes:
        return {v.writes, 0};
    case FileRwSort::rbytes:
        return {v.read_bytes, 0};
    case FileRwSort::wbytes:
        return {v.write_bytes, 0};
    case FileRwSort::all:
        break;
    }
    return {v.read_bytes + v.write_bytes, v.reads + v.writes};
}

} // namespace corescope
