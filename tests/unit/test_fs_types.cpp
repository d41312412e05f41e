#include "errors.h"
#include "fs_types.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace test_fs_types {

using namespace corescope;
using Types = std::vector<std::string>;

TEST_CASE("parse_fs_types splits at commas, adds nfs4 to nfs and names bad text", "[fs_types]") {
    CHECK(parse_fs_types("ext4") == Types{"ext4"});
    CHECK(parse_fs_types("xfs,ext4") == Types{"xfs", "ext4"});
    CHECK(parse_fs_types("nfs") == Types{"nfs", "nfs4"});
    for (const char* bad : {"", "ext4,", ",xfs", "ext4;rm", "a-name-far-too-long", "a,b,c,d,e"}) {
        INFO(bad);
        try {
            parse_fs_types(bad);
            FAIL("accepted");
        } catch (const UsageError& e) {
            CHECK(std::string(e.what()).find("'" + std::string(bad) + "'") != std::string::npos);
        }
    }
    CHECK(parse_fs_types("nfs,ext4,xfs").size() == 4);
    CHECK_THROWS_AS(parse_fs_types("nfs,ext4,xfs,btrfs"), UsageError); // nfs is two
}

TEST_CASE("fs_type_from_name reads the type from a tool's name", "[fs_types]") {
    CHECK(fs_type_from_name("ext4dist", "dist", "fsdist") == "ext4");
    CHECK(fs_type_from_name("xfsslower", "slower", "fsslower") == "xfs");
    CHECK(fs_type_from_name("fsdist", "dist", "fsdist").empty());
    CHECK(fs_type_from_name("fsslower", "slower", "fsslower").empty());
    CHECK(fs_type_from_name("dist", "dist", "fsdist").empty());
    CHECK(fs_type_from_name("corescope", "dist", "fsdist").empty());
}

TEST_CASE("registered_fs_types reads /proc/filesystems, unknown_fs_types names the others",
          "[fs_types]") {
    Types registered = registered_fs_types("nodev\tsysfs\nnodev\ttmpfs\n\text4\n\tvfat\n");
    CHECK(registered == Types{"sysfs", "tmpfs", "ext4", "vfat"});
    auto loadable = [](const std::string& type) { return type == "xfs" || type == "nfs"; };
    CHECK(unknown_fs_types({"ext4", "tmpfs"}, registered, loadable).empty());
    CHECK(unknown_fs_types({"xfs"}, registered, loadable).empty()); // a module not loaded yet
    CHECK(unknown_fs_types({"nfs", "nfs4"}, registered, loadable).empty());
    CHECK(unknown_fs_types({"ext4", "nosuchfs", "btrfs"}, registered, loadable) ==
          Types{"nosuchfs", "btrfs"});
    CHECK(unknown_fs_types({"nfs4"}, registered, [](const std::string&) { return false; }) ==
          Types{"nfs4"});
}

TEST_CASE("the operation and system call names, and a number past them", "[fs_types]") {
    CHECK(std::string(fs_call_op_name(FS_CALL_OP_READ)) == "read");
    CHECK(std::string(fs_call_op_name(FS_CALL_OP_FSYNC)) == "fsync");
    CHECK(std::string(fs_call_op_name(FS_CALL_OP_COUNT)) == "?");
    CHECK(std::string(fs_call_syscall_name(FS_CALL_OPENAT2)) == "openat2");
    CHECK(std::string(fs_call_syscall_name(FS_CALL_FDATASYNC)) == "fdatasync");
    CHECK(std::string(fs_call_syscall_name(FS_CALL_SYSCALL_COUNT)) == "?");
}

} // namespace test_fs_types
