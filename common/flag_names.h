// Names for the flags and numbers system calls take, as their man pages
// spell them, for the tools that show them.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace corescope {

// open(2) flags: the access mode, then every flag set, joined by '|'
// ("O_WRONLY|O_CREAT|O_TRUNC").
std::string open_flag_names(uint64_t flags);

// A flag's bits and name, for flag_names().
struct FlagName {
    uint64_t bits;
    const char* name;
};

// The names of the flags set in flags, in the table's order, joined by '|'
// ("MS_NOSUID|MS_NODEV"), then any bits no name covers in hex; "0" for none.
std::string flag_names(uint64_t flags, std::span<const FlagName> names);

// The mount API's flags as <linux/mount.h> and <fcntl.h> name them:
// mount(2)'s MS_* (the propagation types too), umount2(2)'s, fsopen(2)'s,
// fsmount(2)'s and its MOUNT_ATTR_* (mount_setattr(2)'s attr_set and
// attr_clr too), move_mount(2)'s, open_tree(2)'s, fspick(2)'s, and
// mount_setattr(2)'s AT_* flags.
extern const std::span<const FlagName> mount_flags, umount_flags, fsopen_flags, fsmount_flags,
    mount_attr_flags, move_mount_flags, open_tree_flags, fspick_flags, mount_setattr_flags;
// fsconfig(2)'s command by name (FSCONFIG_SET_STRING), or its number.
std::string fsconfig_command_name(uint64_t cmd);

} // namespace corescope
