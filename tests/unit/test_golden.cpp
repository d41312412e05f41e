// Golden-output tests: every tool's decoder fed the event bytes recorded in
// tests/golden/NAME/events, with each set of display options listed in
// tests/golden/NAME/cases, must print exactly tests/golden/NAME/CASE.out.
// A change to a layout shows up as a diff of those files in review;
// CORESCOPE_UPDATE_GOLDEN=1 rewrites them (tests/golden/README.md).
#include "clock.h"
#include "decode_arch.h"
#include "tool_entries.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <sys/mman.h>
#include <unistd.h>

namespace test_golden {

namespace {

const std::string golden_dir = CORESCOPE_GOLDEN_DIR;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The recording's events, each copied to 8-byte alignment as the event
// stream hands them over.
std::vector<std::vector<uint64_t>> read_events(const std::string& path,
                                               std::vector<size_t>& sizes) {
    std::string bytes = read_file(path);
    std::vector<std::vector<uint64_t>> events;
    size_t at = 0;
    while (at + 4 <= bytes.size()) {
        uint32_t size;
        std::memcpy(&size, bytes.data() + at, 4);
        at += 4;
        if (at + size > bytes.size()) FAIL(path << ": truncated at byte " << at);
        std::vector<uint64_t> event((size + 7) / 8);
        std::memcpy(event.data(), bytes.data() + at, size);
        events.push_back(std::move(event));
        sizes.push_back(size);
        at += size;
    }
    return events;
}

struct Case {
    std::string name;
    corescope::CommonOptions options;
    uint32_t variant = 0;
    std::string events = "events"; // the input file, in the tool's directory
    // --arch x86_64 or aarch64: the events were recorded there (system
    // call numbers, open(2) flags), decoded as there whatever this test was
    // built for.
    corescope::DecodeArch arch = corescope::DecodeArch::native;
};

// "json-time -o json -T --variant 1": the case's name, then display options.
Case parse_case(const std::string& line) {
    std::istringstream words(line);
    Case c;
    words >> c.name;
    std::string word;
    while (words >> word) {
        if (word == "-T") {
            c.options.time = true;
        } else if (word == "-U") {
            c.options.print_uid = true;
        } else if (word == "-m") {
            c.options.milliseconds = true;
        } else if (word == "-o") {
            words >> word;
            c.options.format =
                word == "json" ? corescope::OutputFormat::json : corescope::OutputFormat::text;
        } else if (word == "-n") {
            words >> c.options.name;
        } else if (word == "--variant") {
            words >> c.variant;
        } else if (word == "--events") {
            words >> c.events;
        } else if (word == "--arch") {
            words >> word;
            if (word == "x86_64")
                c.arch = corescope::DecodeArch::x86_64;
            else if (word == "aarch64")
                c.arch = corescope::DecodeArch::aarch64;
            else
                FAIL("unknown architecture in a golden case: " << line);
        } else {
            FAIL("unknown option in a golden case: " << line);
        }
    }
    return c;
}

// What the decoder printed: flushed (past Output's threshold) and buffered.
std::string decode_all(const tool_entries::ToolDecoder& tool, const Case& c,
                       const std::vector<std::vector<uint64_t>>& events,
                       const std::vector<size_t>& sizes) {
    int fd = memfd_create("golden-output", 0);
    REQUIRE(fd >= 0);
    std::string printed;
    {
        corescope::Output out(fd);
        std::vector<corescope::RecordedEvent> recorded;
        for (size_t i = 0; i < events.size(); i++)
            recorded.push_back({events[i].data(), sizes[i]});
        tool.decode(c.options, c.variant, out, recorded);
        out.flush();
    }
    off_t size = lseek(fd, 0, SEEK_END);
    printed.resize(static_cast<size_t>(size));
    REQUIRE(pread(fd, printed.data(), printed.size(), 0) == size);
    close(fd);
    return printed;
}

// The first line where two outputs differ, for the failure message.
std::string first_difference(const std::string& want, const std::string& got) {
    std::istringstream a(want), b(got);
    std::string la, lb;
    for (int line = 1;; line++) {
        bool more_a = static_cast<bool>(std::getline(a, la));
        bool more_b = static_cast<bool>(std::getline(b, lb));
        if (!more_a && !more_b) return "the same lines, different bytes";
        if (la != lb || more_a != more_b)
            return "line " + std::to_string(line) + ":\n  want: " + (more_a ? la : "(end)") +
                   "\n  got:  " + (more_b ? lb : "(end)");
    }
}

} // namespace

TEST_CASE("every tool's decoder prints its recorded events exactly as its golden files say",
          "[golden]") {
    // Times in the files: the recording's monotonic stamps read as if the
    // monotonic clock had started at 2026-12-04T00:00:00Z, in UTC.
    setenv("TZ", "UTC", 1);
    tzset();
    corescope::fix_clocks_for_tests(1796342400ull * 1000000000ull, 0);
    struct Unfix {
        ~Unfix() {
            corescope::unfix_clocks_for_tests();
            corescope::use_decode_arch_for_tests(corescope::DecodeArch::native);
        }
    } unfix;
    bool update = std::getenv("CORESCOPE_UPDATE_GOLDEN") != nullptr;
    size_t tools_checked = 0;
    for (const tool_entries::ToolDecoder& tool : tool_entries::tool_decoders()) {
        std::string dir = golden_dir + "/" + std::string(tool.name);
        INFO(dir);
        std::istringstream cases(read_file(dir + "/cases"));
        std::string line;
        size_t checked = 0;
        while (std::getline(cases, line)) {
            if (line.empty() || line[0] == '#') continue;
            Case c = parse_case(line);
            std::vector<size_t> sizes;
            auto events = read_events(dir + "/" + c.events, sizes);
            REQUIRE(!events.empty());
            corescope::use_decode_arch_for_tests(c.arch);
            std::string got = decode_all(tool, c, events, sizes);
            corescope::use_decode_arch_for_tests(corescope::DecodeArch::native);
            std::string path = dir + "/" + c.name + ".out";
            if (update) std::ofstream(path, std::ios::binary) << got;
            std::string want = read_file(path);
            INFO(path << ": " << first_difference(want, got));
            CHECK(got == want);
            checked++;
        }
        CHECK(checked > 0);
        tools_checked++;
    }
    CHECK(tools_checked == tool_entries::tool_decoders().size());
}

} // namespace test_golden
