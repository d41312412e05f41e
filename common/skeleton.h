// Ownership of a bpftool-generated skeleton. Skeletons expose static
// open/load/attach/destroy members under __cplusplus, so a unique_ptr whose
// deleter calls T::destroy releases every program, link and map on every
// path out of scope, exceptions included.
#pragma once

#include "errors.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <memory>
#include <string>

namespace corescope {

template <class Skeleton>
struct SkeletonDestroyer {
    void operator()(Skeleton* skeleton) const { Skeleton::destroy(skeleton); }
};

template <class Skeleton>
using SkeletonPtr = std::unique_ptr<Skeleton, SkeletonDestroyer<Skeleton>>;

// Opens the skeleton (parses the embedded object; nothing touches the
// kernel yet). Throws RuntimeError with the tool's name on failure.
template <class Skeleton>
SkeletonPtr<Skeleton> open_skeleton(const std::string& tool, const bpf_object_open_opts* opts) {
    errno = 0;
    Skeleton* raw = Skeleton::open(opts);
    if (raw == nullptr)
        throw RuntimeError(
            errno_message("cannot open the BPF object of " + tool, errno ? errno : EINVAL));
    return SkeletonPtr<Skeleton>(raw);
}

} // namespace corescope
