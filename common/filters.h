// The user-space half of bpf/filters.bpf.h: rodata switches before load, the
// PID set and cgroup after load. Names must match the BPF side.
#pragma once

#include "cli.h"
#include "errors.h"
#include "fd.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <unistd.h>

namespace corescope {

inline constexpr size_t filter_max_pids = 64; // FILTER_MAX_PIDS

template <class Skeleton>
void configure_filters(Skeleton* skel, const CommonOptions& options) {
    if (options.pids.size() > filter_max_pids)
        throw UsageError("too many -p PIDs: at most " + std::to_string(filter_max_pids));
    // One PID is compared in the kernel; two or more go through a set.
    skel->rodata->filter_single_tgid = options.pids.size() == 1 ? options.pids[0] : 0;
    skel->rodata->filter_by_pid = options.pids.size() > 1;
    skel->rodata->filter_tid = options.tid.value_or(0);
    skel->rodata->filter_by_uid = options.uid.has_value();
    skel->rodata->filter_uid = options.uid.value_or(0);
    skel->rodata->filter_by_cgroup = !options.cgroup.empty();
}

template <class Skeleton>
void fill_filter_maps(Skeleton* skel, const CommonOptions& options) {
    for (uint32_t pid : options.pids) {
        uint8_t one = 1;
        int err = bpf_map__update_elem(skel->maps.filter_pids, &pid, sizeof pid, &one, sizeof one,
                                       BPF_ANY);
        if (err) throw RuntimeError(errno_message("cannot set the PID filter", err));
    }
    if (!options.cgroup.empty()) {
        FileDescriptor fd(open(options.cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd.valid())
            throw RuntimeError(errno_message("cannot open cgroup " + options.cgroup, errno));
        uint32_t zero = 0;
        uint32_t value = static_cast<uint32_t>(fd.get());
        int err = bpf_map__update_elem(skel->maps.filter_cgroup, &zero, sizeof zero, &value,
                                       sizeof value, BPF_ANY);
        if (err)
            throw RuntimeError(errno_message("cannot filter on cgroup " + options.cgroup +
                                                 " (is it a cgroup v2 directory?)",
                                             err));
    }
}

// -n: the command name contains text.
inline bool comm_matches(std::string_view comm, const std::string& name) {
    return name.empty() || comm.find(name) != std::string_view::npos;
}

// A fixed-size, possibly unterminated char array from the kernel as a view.
template <size_t N>
std::string_view fixed_string(const char (&chars)[N]) {
    size_t len = 0;
    while (len < N && chars[len] != '\0')
        len++;
    return {chars, len};
}

} // namespace corescope
