#include "errors.h"
#include "function_signature.h"

#include <catch2/catch.hpp>
#include <string>

namespace test_function_signature {

using namespace corescope;

namespace {

// int __close_range(unsigned int fd, unsigned int max_fd, unsigned int flags),
// as the kernel's BTF gives it.
FunctionSignature close_range() {
    ValueType uint{ValueType::Kind::unsigned_int, 4, {}, "unsigned int"};
    ValueType sint{ValueType::Kind::signed_int, 4, {}, "int"};
    return {"__close_range", {{"fd", uint}, {"max_fd", uint}, {"flags", uint}}, sint, false};
}

} // namespace

TEST_CASE("function requests: the function, the arguments named, and return",
          "[function_signature]") {
    FunctionRequest all = parse_function_request("vfs_read");
    CHECK(all.function == "vfs_read");
    CHECK(all.args.empty());
    CHECK(all.ret);
    CHECK(!all.listed);

    FunctionRequest listed = parse_function_request("vfs_read( count , return)");
    CHECK(listed.function == "vfs_read");
    CHECK(listed.args == std::vector<std::string>{"count"});
    CHECK(listed.ret);
    CHECK(listed.listed);

    FunctionRequest no_return = parse_function_request("vfs_read(file,count)");
    CHECK(no_return.args == std::vector<std::string>{"file", "count"});
    CHECK(!no_return.ret);

    // An empty list shows nothing but the call itself.
    FunctionRequest empty = parse_function_request("vfs_read()");
    CHECK(empty.listed);
    CHECK(empty.args.empty());
    CHECK(!empty.ret);
}

TEST_CASE("function requests: bad names, a missing ')', members and predicates are refused",
          "[function_signature]") {
    CHECK_THROWS_WITH(parse_function_request(""), Catch::Contains("invalid function ''"));
    CHECK_THROWS_WITH(parse_function_request("9lives"), Catch::Contains("'9lives'"));
    CHECK_THROWS_WITH(parse_function_request("f;rm"), Catch::Contains("'f;rm'"));
    CHECK_THROWS_WITH(parse_function_request("vfs_read(count"), Catch::Contains("no closing ')'"));
    CHECK_THROWS_WITH(parse_function_request("vfs_read(file->f_mode)"),
                      Catch::Contains("members and predicates"));
    CHECK_THROWS_WITH(parse_function_request("vfs_read(count == 4)"),
                      Catch::Contains("members and predicates"));
    CHECK_THROWS_AS(parse_function_request("vfs_read(1x)"), UsageError);
}

TEST_CASE("the arguments shown: all, the named ones in order, and names the function lacks",
          "[function_signature]") {
    FunctionSignature s = close_range();
    CHECK(shown_params(s, parse_function_request("__close_range"), 6) ==
          std::vector<size_t>{0, 1, 2});
    CHECK(shown_params(s, parse_function_request("__close_range(flags, fd)"), 6) ==
          std::vector<size_t>{2, 0});
    CHECK_THROWS_WITH(shown_params(s, parse_function_request("__close_range(count)"), 6),
                      Catch::Contains("invalid argument 'count': int __close_range(unsigned int "
                                      "fd, unsigned int max_fd, unsigned int flags) has none"));
    CHECK_THROWS_WITH(shown_params(s, parse_function_request("__close_range(flags)"), 2),
                      Catch::Contains("only the first 2 arguments"));
}

TEST_CASE("a prototype in C, pointers without a space before the name", "[function_signature]") {
    FunctionSignature s = close_range();
    CHECK(prototype(s) ==
          "int __close_range(unsigned int fd, unsigned int max_fd, unsigned int flags)");
    s.params[1].type.c_name = "struct file *";
    s.returns_void = true;
    CHECK(prototype(s) ==
          "void __close_range(unsigned int fd, struct file *max_fd, unsigned int flags)");
}

TEST_CASE("values print as their type: sign, size, bool, enum names and pointers",
          "[function_signature]") {
    ValueType sint{ValueType::Kind::signed_int, 4, {}, "int"};
    // A 32-bit -22 in a 64-bit register whose upper half is garbage.
    ShownValue einval = show_value(sint, 0xdeadbeefffffffeaull);
    CHECK(einval.text == "-22");
    CHECK(einval.json == "-22");
    ValueType u8{ValueType::Kind::unsigned_int, 1, {}, "u8"};
    CHECK(show_value(u8, 0x1ff).text == "255");
    ValueType u64{ValueType::Kind::unsigned_int, 8, {}, "u64"};
    CHECK(show_value(u64, ~0ull).text == "18446744073709551615");
    ValueType boolean{ValueType::Kind::boolean, 1, {}, "bool"};
    CHECK(show_value(boolean, 1).json == "true");
    CHECK(show_value(boolean, 0).text == "false");
    ValueType mode{ValueType::Kind::enumeration, 4, {{-1, "NEG"}, {4, "CLOEXEC"}}, "enum m"};
    CHECK(show_value(mode, 4).text == "CLOEXEC");
    CHECK(show_value(mode, 4).json == "\"CLOEXEC\"");
    CHECK(show_value(mode, 0xffffffff).text == "NEG");
    CHECK(show_value(mode, 7).json == "7");
    ValueType pointer{ValueType::Kind::pointer, 8, {}, "struct file *"};
    CHECK(show_value(pointer, 0xffff888012345678ull).text == "0xffff888012345678");
    CHECK(show_value(pointer, 0xffff888012345678ull).json == "\"0xffff888012345678\"");
}

TEST_CASE("a BTF file that cannot be read is an error naming it", "[function_signature]") {
    CHECK_THROWS_WITH(function_signature("vfs_read", "/nonexistent/vmlinux"),
                      Catch::Contains("/nonexistent/vmlinux"));
}

} // namespace test_function_signature
