#include "flag_names.h"

#include "decode_arch.h"

#include <cstdio>
#include <fcntl.h>
#include <iterator>
#include <utility>

namespace corescope {

std::string open_flag_names(uint64_t flags) {
    std::string out;
    switch (flags & O_ACCMODE) {
    case O_RDONLY:
        out = "O_RDONLY";
        break;
    case O_WRONLY:
        out = "O_WRONLY";
        break;
    case O_RDWR:
        out = "O_RDWR";
        break;
    default:
        out = "O_ACCMODE";
        break;
    }
    // Four bits differ between architectures: arm64 swaps x86_64's (and
    // asm-generic's) O_DIRECT, O_LARGEFILE, O_DIRECTORY and O_NOFOLLOW. The
    // C library's are this one's; the tests decode either's recordings.
    uint64_t direct = O_DIRECT, directory = O_DIRECTORY, nofollow = O_NOFOLLOW;
    if (decode_arch == DecodeArch::x86_64) {
        direct = 040000;
        directory = 0200000;
        nofollow = 0400000;
    } else if (decode_arch == DecodeArch::aarch64) {
        direct = 0200000;
        directory = 040000;
        nofollow = 0100000;
    }
    // In the order open(2) lists them. O_SYNC includes O_DSYNC's bit: it
    // is named instead of it.
    const std::pair<uint64_t, const char*> names[] = {
        {O_CREAT, "O_CREAT"},       {O_EXCL, "O_EXCL"},
        {O_NOCTTY, "O_NOCTTY"},     {O_TRUNC, "O_TRUNC"},
        {O_APPEND, "O_APPEND"},     {O_NONBLOCK, "O_NONBLOCK"},
        {O_DSYNC, "O_DSYNC"},       {O_ASYNC, "O_ASYNC"},
        {direct, "O_DIRECT"},       {O_LARGEFILE, "O_LARGEFILE"},
        {directory, "O_DIRECTORY"}, {nofollow, "O_NOFOLLOW"},
        {O_NOATIME, "O_NOATIME"},   {O_CLOEXEC, "O_CLOEXEC"},
        {O_PATH, "O_PATH"},         {O_TMPFILE & ~O_DIRECTORY, "O_TMPFILE"},
    };
    // A flag the C library defines as 0 (O_LARGEFILE on 64-bit systems) is
    // never named: every value would "have" it.
    bool sync = flags & (O_SYNC & ~O_DSYNC);
    for (auto [bit, name] : names)
        if (bit != 0 && (flags & bit) == bit && !(bit == O_DSYNC && sync))
            out += std::string("|") + name;
    if (sync) out += "|O_SYNC";
    return out;
}

namespace {

// Written out: the C library's headers and the kernel's clash, and older
// ones lack the new mount API.
constexpr FlagName mount_flag_table[] = {
    {1, "MS_RDONLY"},          {2, "MS_NOSUID"},           {4, "MS_NODEV"},
    {8, "MS_NOEXEC"},          {16, "MS_SYNCHRONOUS"},     {32, "MS_REMOUNT"},
    {64, "MS_MANDLOCK"},       {128, "MS_DIRSYNC"},        {256, "MS_NOSYMFOLLOW"},
    {1024, "MS_NOATIME"},      {2048, "MS_NODIRATIME"},    {4096, "MS_BIND"},
    {8192, "MS_MOVE"},         {16384, "MS_REC"},          {32768, "MS_SILENT"},
    {1 << 16, "MS_POSIXACL"},  {1 << 17, "MS_UNBINDABLE"}, {1 << 18, "MS_PRIVATE"},
    {1 << 19, "MS_SLAVE"},     {1 << 20, "MS_SHARED"},     {1 << 21, "MS_RELATIME"},
    {1 << 22, "MS_KERNMOUNT"}, {1 << 23, "MS_I_VERSION"},  {1 << 24, "MS_STRICTATIME"},
    {1 << 25, "MS_LAZYTIME"},
};
constexpr FlagName umount_flag_table[] = {
    {1, "MNT_FORCE"}, {2, "MNT_DETACH"}, {4, "MNT_EXPIRE"}, {8, "UMOUNT_NOFOLLOW"}};
constexpr FlagName fsopen_flag_table[] = {{1, "FSOPEN_CLOEXEC"}};
constexpr FlagName fsmount_flag_table[] = {{1, "FSMOUNT_CLOEXEC"}};
constexpr FlagName mount_attr_table[] = {
    {0x1, "MOUNT_ATTR_RDONLY"},          {0x2, "MOUNT_ATTR_NOSUID"},
    {0x4, "MOUNT_ATTR_NODEV"},           {0x8, "MOUNT_ATTR_NOEXEC"},
    {0x10, "MOUNT_ATTR_NOATIME"},        {0x20, "MOUNT_ATTR_STRICTATIME"},
    {0x80, "MOUNT_ATTR_NODIRATIME"},     {0x100000, "MOUNT_ATTR_IDMAP"},
    {0x200000, "MOUNT_ATTR_NOSYMFOLLOW"}};
constexpr FlagName move_mount_flag_table[] = {
    {0x1, "MOVE_MOUNT_F_SYMLINKS"},    {0x2, "MOVE_MOUNT_F_AUTOMOUNTS"},
    {0x4, "MOVE_MOUNT_F_EMPTY_PATH"},  {0x10, "MOVE_MOUNT_T_SYMLINKS"},
    {0x20, "MOVE_MOUNT_T_AUTOMOUNTS"}, {0x40, "MOVE_MOUNT_T_EMPTY_PATH"},
    {0x100, "MOVE_MOUNT_SET_GROUP"},   {0x200, "MOVE_MOUNT_BENEATH"}};
constexpr FlagName open_tree_flag_table[] = {
    {1, "OPEN_TREE_CLONE"},     {02000000, "OPEN_TREE_CLOEXEC"}, {0x100, "AT_SYMLINK_NOFOLLOW"},
    {0x800, "AT_NO_AUTOMOUNT"}, {0x1000, "AT_EMPTY_PATH"},       {0x8000, "AT_RECURSIVE"}};
constexpr FlagName fspick_flag_table[] = {{1, "FSPICK_CLOEXEC"},
                                          {2, "FSPICK_SYMLINK_NOFOLLOW"},
                                          {4, "FSPICK_NO_AUTOMOUNT"},
                                          {8, "FSPICK_EMPTY_PATH"}};
constexpr FlagName mount_setattr_flag_table[] = {{0x100, "AT_SYMLINK_NOFOLLOW"},
                                                 {0x800, "AT_NO_AUTOMOUNT"},
                                                 {0x1000, "AT_EMPTY_PATH"},
                                                 {0x8000, "AT_RECURSIVE"}};
const char* const fsconfig_command_names[] = {
    "FSCONFIG_SET_FLAG",   "FSCONFIG_SET_STRING",      "FSCONFIG_SET_BINARY",
    "FSCONFIG_SET_PATH",   "FSCONFIG_SET_PATH_EMPTY",  "FSCONFIG_SET_FD",
    "FSCONFIG_CMD_CREATE", "FSCONFIG_CMD_RECONFIGURE", "FSCONFIG_CMD_CREATE_EXCL"};

} // namespace

const std::span<const FlagName> mount_flags = mount_flag_table, umount_flags = umount_flag_table,
                                fsopen_flags = fsopen_flag_table,
                                fsmount_flags = fsmount_flag_table,
                                mount_attr_flags = mount_attr_table,
                                move_mount_flags = move_mount_flag_table,
                                open_tree_flags = open_tree_flag_table,
                                fspick_flags = fspick_flag_table,
                                mount_setattr_flags = mount_setattr_flag_table;

std::string fsconfig_command_name(uint64_t cmd) {
    return cmd < std::size(fsconfig_command_names) ? fsconfig_command_names[cmd]
                                                   : std::to_string(cmd);
}

std::string flag_names(uint64_t flags, std::span<const FlagName> names) {
    std::string out;
    uint64_t named = 0;
    for (const FlagName& f : names) {
        if (f.bits == 0 || (flags & f.bits) != f.bits) continue;
        if (!out.empty()) out += '|';
        out += f.name;
        named |= f.bits;
    }
    if (uint64_t rest = flags & ~named) {
        char hex[24];
        snprintf(hex, sizeof(hex), "0x%llx", static_cast<unsigned long long>(rest));
        if (!out.empty()) out += '|';
        out += hex;
    }
    return out.empty() ? "0" : out;
}

} // namespace corescope
