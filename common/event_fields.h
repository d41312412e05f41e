// Reading an event the kernel handed over: the event itself when the bytes
// hold one, a string at its end of which only the used part was sent, and
// the task it is about (for common/record.h).
#pragma once

#include "filters.h"
#include "record.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace corescope {

// The event in data, or nullptr when size is short of min_size (an event
// whose string tail is sent only as long as it is names the offset of that
// tail; every other event must be whole).
template <class Event>
const Event* event_in(const void* data, size_t size, size_t min_size = sizeof(Event)) {
    return size >= min_size ? static_cast<const Event*>(data) : nullptr;
}

// The string at the end of an event: what was sent of the array at field
// (a member of the event at data), up to its first NUL.
template <size_t N>
std::string_view tail_string(const void* data, size_t size, const char (&field)[N]) {
    size_t offset = static_cast<size_t>(field - static_cast<const char*>(data));
    size_t room = size > offset ? size - offset : 0;
    return {field, strnlen(field, room < N ? room : N)};
}

// The array at the end of an event of which only the used part was sent (a
// kernel stack, bpf_get_stack's frames): its first count elements, fewer
// where the bytes end sooner, never more than the array holds.
template <class T, size_t N>
std::span<const T> tail_array(const void* data, size_t size, const T (&field)[N], size_t count) {
    size_t offset =
        static_cast<size_t>(reinterpret_cast<const char*>(field) - static_cast<const char*>(data));
    size_t room = size > offset ? (size - offset) / sizeof(T) : 0;
    return {field, std::min({count, room, N})};
}

// A block of NUL-separated strings (an argv) of len bytes, max of them at
// most; cut says whether more were left.
inline std::vector<std::string_view> split_nul_separated(const char* block, size_t len, size_t max,
                                                         bool& cut) {
    std::vector<std::string_view> parts;
    cut = false;
    size_t start = 0;
    while (start < len) {
        if (parts.size() == max) {
            cut = true;
            break;
        }
        size_t end = start;
        while (end < len && block[end] != '\0')
            end++;
        parts.emplace_back(block + start, end - start);
        start = end + 1;
    }
    return parts;
}

// A path from the components bpf/files.bpf.h file_path() wrote, leaf
// first and NUL-terminated: "/var/log/syslog"; "..." opens a path whose top
// the kernel side could not reach.
inline std::string path_from_components(std::string_view block, bool complete) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    while (start < block.size()) {
        size_t end = block.find('\0', start);
        if (end == std::string_view::npos) end = block.size();
        parts.push_back(block.substr(start, end - start));
        start = end + 1;
    }
    std::string path = complete ? "" : "...";
    for (auto it = parts.rbegin(); it != parts.rend(); ++it)
        path.append("/").append(*it);
    return path.empty() ? "/" : path;
}

// A path argument as the kernel would look it up, lexically: name itself
// when absolute, else name under base (the directory it is taken from, a
// path as path_from_components returns it); "." and empty components
// dropped, ".." taking one away (never above the root). Symbolic links are
// not followed: a name through one differs from the file's own path.
inline std::string join_path_lexically(std::string_view base, std::string_view name) {
    std::vector<std::string_view> parts;
    auto add = [&parts](std::string_view path) {
        size_t start = 0;
        while (start <= path.size()) {
            size_t end = path.find('/', start);
            if (end == std::string_view::npos) end = path.size();
            std::string_view part = path.substr(start, end - start);
            if (part == "..") {
                if (!parts.empty() && parts.back() != "...") parts.pop_back();
            } else if (!part.empty() && part != ".") {
                parts.push_back(part);
            }
            start = end + 1;
        }
    };
    if (name.empty() || name.front() != '/') add(base);
    add(name);
    std::string path;
    for (size_t i = 0; i < parts.size(); i++) {
        if (i > 0 || parts[i] != "...") path += '/';
        path.append(parts[i]);
    }
    return path.empty() ? "/" : path;
}

// The task an event is about, from the members it has of ts_ns, pid, tid,
// uid, comm and owner_known (bpf/sock_owners.bpf.h: false when the socket's
// process was never seen).
template <class Event>
Task task_of(const Event& e) {
    Task t;
    if constexpr (requires { e.ts_ns; }) t.ts_ns = e.ts_ns;
    if constexpr (requires { e.pid; }) t.pid = e.pid;
    if constexpr (requires { e.tid; }) t.tid = e.tid;
    if constexpr (requires { e.uid; }) t.uid = e.uid;
    if constexpr (requires { e.comm; }) t.comm = fixed_string(e.comm);
    if constexpr (requires { e.owner_known; }) t.known = e.owner_known;
    return t;
}

} // namespace corescope
