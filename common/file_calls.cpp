#include "file_calls.h"

#include "syscall_names.h"

#include <array>
#include <utility>

namespace corescope {

namespace {

constexpr std::array<std::string_view, FILE_CALL_FAMILIES> family_names = {
    "", "read", "write", "fsync", "open", "create", "unlink", "mkdir", "rmdir", "rename", "stat"};

// Calls an architecture lacks (open, creat on arm64) are simply not found.
constexpr std::pair<std::string_view, file_call_family> calls[] = {
    {"read", FILE_CALL_READ},
    {"readv", FILE_CALL_READ},
    {"pread64", FILE_CALL_READ},
    {"preadv", FILE_CALL_READ},
    {"preadv2", FILE_CALL_READ},
    {"write", FILE_CALL_WRITE},
    {"writev", FILE_CALL_WRITE},
    {"pwrite64", FILE_CALL_WRITE},
    {"pwritev", FILE_CALL_WRITE},
    {"pwritev2", FILE_CALL_WRITE},
    {"fsync", FILE_CALL_FSYNC},
    {"fdatasync", FILE_CALL_FSYNC},
    {"sync_file_range", FILE_CALL_FSYNC},
    {"open", FILE_CALL_OPEN},
    {"openat", FILE_CALL_OPEN},
    {"openat2", FILE_CALL_OPEN},
    {"open_by_handle_at", FILE_CALL_OPEN},
    {"creat", FILE_CALL_CREATE},
    {"mknod", FILE_CALL_CREATE},
    {"mknodat", FILE_CALL_CREATE},
    {"unlink", FILE_CALL_UNLINK},
    {"unlinkat", FILE_CALL_UNLINK},
    {"mkdir", FILE_CALL_MKDIR},
    {"mkdirat", FILE_CALL_MKDIR},
    {"rmdir", FILE_CALL_RMDIR},
    {"rename", FILE_CALL_RENAME},
    {"renameat", FILE_CALL_RENAME},
    {"renameat2", FILE_CALL_RENAME},
    {"stat", FILE_CALL_STAT},
    {"lstat", FILE_CALL_STAT},
    {"fstat", FILE_CALL_STAT},
    {"newfstatat", FILE_CALL_STAT},
    {"statx", FILE_CALL_STAT},
};

} // namespace

std::string_view file_call_family_name(uint32_t family) {
    return family < family_names.size() ? family_names[family] : std::string_view();
}

file_call_family file_call_family_of(std::string_view syscall) {
    for (const auto& [name, family] : calls)
        if (name == syscall) return family;
    return FILE_CALL_NONE;
}

void fill_file_call_families(uint8_t (&table)[FILE_CALL_MAX_NR]) {
    for (uint32_t nr = 0; nr < FILE_CALL_MAX_NR; nr++)
        table[nr] = static_cast<uint8_t>(file_call_family_of(syscall_name(nr)));
}

} // namespace corescope
