// The system calls bpf/file_rw.bpf.h traces (filetop, dirtop): the read and
// write families, for syscall_tiers().
#pragma once

#include "attach_plan.h"

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

} // namespace corescope
