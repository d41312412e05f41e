// Paths of memory cgroups from their IDs (a BPF program's
// memcg->css.cgroup->kn->id): the ID is the cgroup's file handle in the
// hierarchy that holds the memory controller (cgroup v2, or the v1
// "memory" hierarchy).
#pragma once

#include "fd.h"

#include <cstdint>
#include <map>
#include <string>

namespace corescope {

class MemcgPaths {
  public:
    // Finds the hierarchy in /proc/self/mountinfo.
    MemcgPaths();
    // The cgroup's path; empty when it is gone or cannot be resolved.
    std::string path(uint64_t id);

  private:
    std::string mount_;
    FileDescriptor mount_fd_;
    std::map<uint64_t, std::string> cache_;
};

} // namespace corescope
