#include "text_file.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace test_text_file {

using namespace corescope;

namespace {

// A file of the test's own, removed at the end.
struct TempFile {
    std::string path;
    explicit TempFile(const std::string& content) {
        char name[] = "/tmp/corescope-text-XXXXXX";
        int fd = mkstemp(name);
        REQUIRE(fd >= 0);
        REQUIRE(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
        close(fd);
        path = name;
    }
    ~TempFile() { unlink(path.c_str()); }
};

} // namespace

TEST_CASE("read_text_file reads a whole file, larger than one read", "[text_file]") {
    std::string content;
    for (int i = 0; i < 3000; i++)
        content += "line " + std::to_string(i) + "\n";
    REQUIRE(content.size() > 4096 * 4);
    TempFile file(content);
    CHECK(read_text_file(file.path) == content);
}

TEST_CASE("read_text_file and read_first_line say when a file cannot be read", "[text_file]") {
    CHECK_FALSE(read_text_file("/nonexistent/corescope-file").has_value());
    CHECK_FALSE(read_first_line("/nonexistent/corescope-file").has_value());
    CHECK_FALSE(read_text_file("/").has_value()); // a directory: read() fails
}

TEST_CASE("load_average is /proc/loadavg's line without its newline", "[text_file]") {
    TempFile f("0.50 0.25 0.10 2/300 4242\n");
    CHECK(load_average(f.path) == "0.50 0.25 0.10 2/300 4242");
    CHECK(load_average("/nonexistent/loadavg").empty());
    CHECK(load_average().find('\n') == std::string::npos);
}

TEST_CASE("read_first_line stops at the first newline, or takes all without one", "[text_file]") {
    CHECK(read_first_line(TempFile("[none] integrity\nsecond\n").path) == "[none] integrity");
    CHECK(read_first_line(TempFile("0-1").path) == "0-1");
    CHECK(read_first_line(TempFile("").path) == "");
    CHECK(read_first_line(TempFile("\n").path) == "");
}

TEST_CASE("kernel files read like any other (procfs reports size 0)", "[text_file]") {
    std::optional<std::string> stat = read_text_file("/proc/self/stat");
    REQUIRE(stat.has_value());
    CHECK(stat->find(std::to_string(getpid()) + " (") == 0);
}

TEST_CASE("process_comm is a live process's name, empty for one that is gone", "[text_file]") {
    CHECK(process_comm(static_cast<uint32_t>(getpid())) ==
          read_first_line("/proc/self/comm").value());
    CHECK(process_comm(1u << 30).empty()); // above pid_max's largest
}

TEST_CASE("split_lines drops the newlines and keeps empty lines", "[text_file]") {
    using V = std::vector<std::string_view>;
    CHECK(split_lines("a\nb\n") == V{"a", "b"});
    CHECK(split_lines("a\n\nb") == V{"a", "", "b"});
    CHECK(split_lines("") == V{});
    CHECK(split_lines("\n") == V{""});
}

TEST_CASE("split_words splits at runs of spaces and tabs", "[text_file]") {
    using V = std::vector<std::string_view>;
    CHECK(split_words("Cached:          1234 kB") == V{"Cached:", "1234", "kB"});
    CHECK(split_words("\t a \t b ") == V{"a", "b"});
    CHECK(split_words("") == V{});
    CHECK(split_words("   ") == V{});
}

} // namespace test_text_file
