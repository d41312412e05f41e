#include "cgroups.h"
#include "text_file.h"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace corescope {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& s) {
    auto octal = [](char c) { return c >= '0' && c <= '7'; };
    std::string out;
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] == '\\' && i + 3 < s.size() && octal(s[i + 1]) && octal(s[i + 2]) &&
            octal(s[i + 3])) {
            out +=
                static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
            continue;
        }
        out += s[i];
    }
    return out;
}

} // namespace

MemcgPaths::MemcgPaths() {
    std::string mountinfo = read_text_file("/proc/self/mountinfo").value_or("");
    std::string v1;
    for (std::string_view line : split_lines(mountinfo)) {
        // ID PARENT DEV ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
        std::vector<std::string_view> fields = split_words(line);
        auto dash = std::find(fields.begin(), fields.end(), "-");
        if (fields.size() < 5 || fields.end() - dash < 4) continue;
        std::string mount_point(fields[4]), fstype(dash[1]), super(dash[3]);
        if (fstype == "cgroup2" && mount_.empty()) {
            std::string all =
                read_first_line(unescape(mount_point) + "/cgroup.controllers").value_or("");
            if ((" " + all + " ").find(" memory ") != std::string::npos)
                mount_ = unescape(mount_point);
        } else if (fstype == "cgroup" && v1.empty() &&
                   ("," + super + ",").find(",memory,") != std::string::npos) {
            v1 = unescape(mount_point);
        }
    }
    if (mount_.empty()) mount_ = v1;
    if (!mount_.empty()) mount_fd_.reset(open(mount_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

std::string MemcgPaths::path(uint64_t id) {
    if (id == 0 || !mount_fd_.valid()) return {};
    auto cached = cache_.find(id);
    if (cached != cache_.end()) return cached->second;
    alignas(struct file_handle) unsigned char buffer[sizeof(struct file_handle) + sizeof id] = {};
    auto* handle = reinterpret_cast<struct file_handle*>(buffer);
    handle->handle_bytes = sizeof id;
    handle->handle_type = 0xfe; // FILEID_KERNFS
    std::memcpy(buffer + sizeof(struct file_handle), &id, sizeof id);
    FileDescriptor fd(
        open_by_handle_at(mount_fd_.get(), handle, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return {};
    char target[4096];
    ssize_t n =
        readlink(("/proc/self/fd/" + std::to_string(fd.get())).c_str(), target, sizeof target - 1);
    if (n <= 0) return {};
    std::string found(target, static_cast<size_t>(n));
    cache_.emplace(id, found);
    return found;
}

} // namespace corescope
