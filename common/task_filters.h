// The user-space half of bpf/task_filters.bpf.h: the filters of filters.h,
// plus the cgroup's ID for matching tasks other than the current one.
#pragma once

#include "filters.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <string>

namespace corescope {

// The ID of a cgroup v2 directory, as the kernel's cgroup_id(): its file
// handle on cgroupfs is the kernfs node ID.
inline uint64_t cgroup_id(const std::string& path) {
    uint64_t id = 0;
    alignas(struct file_handle) unsigned char buffer[sizeof(struct file_handle) + sizeof id] = {};
    auto* handle = reinterpret_cast<struct file_handle*>(buffer);
    handle->handle_bytes = sizeof id;
    int mount_id = 0;
    if (name_to_handle_at(AT_FDCWD, path.c_str(), handle, &mount_id, 0) != 0)
        throw RuntimeError(errno_message("cannot get the ID of cgroup " + path, errno));
    if (handle->handle_bytes != sizeof id)
        throw RuntimeError("cannot get the ID of cgroup " + path +
                           ": is it a cgroup v2 directory?");
    std::memcpy(&id, buffer + sizeof(struct file_handle), sizeof id);
    return id;
}

// Before load: the switches of configure_filters() and the cgroup ID. After
// load, fill_filter_maps() fills the PID set as usual.
template <class Skeleton>
void configure_task_filters(Skeleton* skel, const CommonOptions& options) {
    configure_filters(skel, options);
    skel->rodata->filter_cgroup_id = options.cgroup.empty() ? 0 : cgroup_id(options.cgroup);
}

} // namespace corescope
