// The shared command line (common/cli.h): every shared flag, value checks,
// positionals, tool-specific options and --help.
#include "cli.h"
#include "errors.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace test_cli {

using namespace corescope;
using Catch::Matchers::Contains;

namespace {

const std::vector<Flag> all_event_flags = {
    Flag::pid,    Flag::tid,  Flag::uid,       Flag::cgroup,   Flag::name,
    Flag::failed, Flag::time, Flag::print_uid, Flag::duration, Flag::milliseconds,
};

std::vector<const char*> make_argv(std::initializer_list<const char*> args) {
    std::vector<const char*> argv{"tool"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(nullptr);
    return argv;
}

ParseResult parse(const CommandLine& cl, std::initializer_list<const char*> args,
                  CommonOptions& options) {
    std::vector<const char*> argv = make_argv(args);
    return cl.parse(static_cast<int>(argv.size() - 1), argv.data(), options);
}

CommonOptions parse_ok(const CommandLine& cl, std::initializer_list<const char*> args) {
    CommonOptions options;
    REQUIRE(parse(cl, args, options) == ParseResult::run);
    return options;
}

// The message of the UsageError that parsing args throws; fails the test
// when nothing (or something else) is thrown.
std::string usage_error(const CommandLine& cl, std::initializer_list<const char*> args) {
    std::string joined;
    for (const char* a : args)
        joined += std::string(" [") + a + "]";
    INFO("arguments:" << joined);
    CommonOptions options;
    try {
        parse(cl, args, options);
    } catch (const UsageError& e) {
        CHECK(e.exit_code() == 2);
        CHECK(e.exit_code() == exit_usage_error);
        return e.what();
    } catch (const std::exception& e) {
        FAIL_CHECK("expected a UsageError, got: " << e.what());
        return {};
    }
    FAIL_CHECK("expected a UsageError, parsing succeeded");
    return {};
}

// Runs f with stdout redirected to a memory file and returns what it printed.
template <class F>
std::string capture_stdout(F&& f) {
    std::fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int mem = memfd_create("captured-stdout", MFD_CLOEXEC);
    REQUIRE(saved >= 0);
    REQUIRE(mem >= 0);
    REQUIRE(dup2(mem, STDOUT_FILENO) == STDOUT_FILENO);
    struct Restore {
        int saved;
        ~Restore() {
            std::fflush(stdout);
            dup2(saved, STDOUT_FILENO);
            close(saved);
        }
    };
    {
        Restore restore{saved};
        f();
    }
    std::string text;
    char buf[4096];
    lseek(mem, 0, SEEK_SET);
    for (ssize_t n; (n = read(mem, buf, sizeof buf)) > 0;)
        text.append(buf, static_cast<size_t>(n));
    close(mem);
    return text;
}

struct TempFile {
    std::string path;
    TempFile() {
        char name[] = "/tmp/corescope-unit-XXXXXX";
        int fd = mkstemp(name);
        REQUIRE(fd >= 0);
        close(fd);
        path = name;
    }
    ~TempFile() { unlink(path.c_str()); }
};

} // namespace

TEST_CASE("cli: every shared flag parses in its short and long forms", "[cli]") {
    CommandLine cl("tool", "test tool", all_event_flags);

    SECTION("-p / --pid") {
        CHECK(parse_ok(cl, {"-p", "5"}).pids == std::vector<uint32_t>{5});
        CHECK(parse_ok(cl, {"--pid", "6"}).pids == std::vector<uint32_t>{6});
        CHECK(parse_ok(cl, {"--pid=7"}).pids == std::vector<uint32_t>{7});
        CHECK(parse_ok(cl, {"-p8"}).pids == std::vector<uint32_t>{8});
        CHECK(parse_ok(cl, {"-p", "4194304"}).pids == std::vector<uint32_t>{4194304});
    }
    SECTION("-t / --tid") {
        CHECK(parse_ok(cl, {"-t", "42"}).tid == 42u);
        CHECK(parse_ok(cl, {"--tid", "43"}).tid == 43u);
        CHECK(parse_ok(cl, {"--tid=44"}).tid == 44u);
        CHECK(parse_ok(cl, {"-t45"}).tid == 45u);
        CHECK_FALSE(parse_ok(cl, {}).tid.has_value());
    }
    SECTION("-u / --uid (0 is a real user)") {
        CHECK(parse_ok(cl, {"-u", "1000"}).uid == 1000u);
        CHECK(parse_ok(cl, {"--uid", "0"}).uid == 0u);
        CHECK(parse_ok(cl, {"--uid=65534"}).uid == 65534u);
        CHECK_FALSE(parse_ok(cl, {}).uid.has_value());
    }
    SECTION("-c / --cgroup takes an existing directory") {
        CHECK(parse_ok(cl, {"-c", "/"}).cgroup == "/");
        CHECK(parse_ok(cl, {"--cgroup", "/tmp"}).cgroup == "/tmp");
        CHECK(parse_ok(cl, {"--cgroup=/tmp"}).cgroup == "/tmp");
    }
    SECTION("-n / --name") {
        CHECK(parse_ok(cl, {"-n", "bash"}).name == "bash");
        CHECK(parse_ok(cl, {"--name", "sshd"}).name == "sshd");
        CHECK(parse_ok(cl, {"--name=nginx"}).name == "nginx");
    }
    SECTION("switches") {
        CommonOptions none = parse_ok(cl, {});
        CHECK_FALSE(none.failed);
        CHECK_FALSE(none.time);
        CHECK_FALSE(none.print_uid);
        CHECK_FALSE(none.milliseconds);
        CHECK_FALSE(none.verbose);
        CHECK_FALSE(none.dry_run);
        CHECK(none.pids.empty());
        CHECK(none.format == OutputFormat::text);

        CHECK(parse_ok(cl, {"-x"}).failed);
        CHECK(parse_ok(cl, {"--failed"}).failed);
        CHECK(parse_ok(cl, {"-T"}).time);
        CHECK(parse_ok(cl, {"--time"}).time);
        CHECK(parse_ok(cl, {"-U"}).print_uid);
        CHECK(parse_ok(cl, {"--print-uid"}).print_uid);
        CHECK(parse_ok(cl, {"-m"}).milliseconds);
        CHECK(parse_ok(cl, {"--milliseconds"}).milliseconds);
        CHECK(parse_ok(cl, {"-v"}).verbose);
        CHECK(parse_ok(cl, {"--verbose"}).verbose);
        CHECK(parse_ok(cl, {"--dry-run"}).dry_run);
    }
    SECTION("-d / --duration") {
        CHECK(parse_ok(cl, {"-d", "10"}).duration == Approx(10.0));
        CHECK(parse_ok(cl, {"--duration", "2.5"}).duration == Approx(2.5));
        CHECK(parse_ok(cl, {"--duration=0.1"}).duration == Approx(0.1));
        CHECK(parse_ok(cl, {"-d3"}).duration == Approx(3.0));
        CHECK_FALSE(parse_ok(cl, {}).duration.has_value());
    }
    SECTION("-o / --output / --json") {
        CHECK(parse_ok(cl, {"-o", "json"}).format == OutputFormat::json);
        CHECK(parse_ok(cl, {"-ojson"}).format == OutputFormat::json);
        CHECK(parse_ok(cl, {"--output", "json"}).format == OutputFormat::json);
        CHECK(parse_ok(cl, {"--output=json"}).format == OutputFormat::json);
        CHECK(parse_ok(cl, {"--json"}).format == OutputFormat::json);
        CHECK(parse_ok(cl, {"--json", "-o", "text"}).format == OutputFormat::text);
        CHECK(parse_ok(cl, {"-o", "text"}).format == OutputFormat::text);
    }
    SECTION("--btf takes an existing regular file") {
        TempFile btf;
        CHECK(parse_ok(cl, {"--btf", btf.path.c_str()}).btf_path == btf.path);
        CHECK_THAT(usage_error(cl, {"--btf", "/nonexistent/vmlinux"}),
                   Contains("/nonexistent/vmlinux"));
        CHECK_THAT(usage_error(cl, {"--btf", "/tmp"}), Contains("/tmp"));
    }
}

TEST_CASE("cli: a format of a command's own joins -o, its help and its usage error", "[cli]") {
    CommandLine plain("tool", "test tool", all_event_flags);
    CHECK_THAT(usage_error(plain, {"-o", "html"}), Contains("must be text or json"));
    CHECK_THAT(plain.option_table(), Contains("output format: text or json"));

    CommandLine cl("corescope triage", "test command", {Flag::duration});
    cl.add_output_format("html", OutputFormat::html);
    CHECK(parse_ok(cl, {"-o", "html"}).format == OutputFormat::html);
    CHECK(parse_ok(cl, {"--output=html"}).format == OutputFormat::html);
    CHECK(parse_ok(cl, {"-o", "json"}).format == OutputFormat::json);
    CHECK(parse_ok(cl, {"-o", "html", "--json"}).format == OutputFormat::json);
    CHECK_THAT(usage_error(cl, {"-o", "svg"}), Contains("must be text, json or html"));
    CHECK_THAT(cl.option_table(), Contains("output format: text, json or html"));
    CHECK_THAT(cl.help(), Contains("text, json or html"));
}

TEST_CASE("cli: clustered, repeated and combined flags", "[cli]") {
    CommandLine cl("tool", "test tool", all_event_flags);

    CommonOptions clustered = parse_ok(cl, {"-xT"});
    CHECK(clustered.failed);
    CHECK(clustered.time);
    CHECK_FALSE(clustered.print_uid);

    CommonOptions three = parse_ok(cl, {"-xTU"});
    CHECK(three.failed);
    CHECK(three.time);
    CHECK(three.print_uid);

    // A cluster may end with a flag that takes a value, attached or not.
    CommonOptions with_value = parse_ok(cl, {"-xp", "12"});
    CHECK(with_value.failed);
    CHECK(with_value.pids == std::vector<uint32_t>{12});
    CommonOptions attached = parse_ok(cl, {"-Tp34"});
    CHECK(attached.time);
    CHECK(attached.pids == std::vector<uint32_t>{34});

    CHECK(parse_ok(cl, {"-p", "1", "-p", "2", "--pid=3", "-p4"}).pids ==
          std::vector<uint32_t>{1, 2, 3, 4});

    CommonOptions many = parse_ok(cl, {"-T", "--json", "-n", "ba", "-u", "7", "-d", "1"});
    CHECK(many.time);
    CHECK(many.format == OutputFormat::json);
    CHECK(many.name == "ba");
    CHECK(many.uid == 7u);
    CHECK(many.duration == Approx(1.0));
}

TEST_CASE("cli: bad values are usage errors that name the value", "[cli]") {
    CommandLine cl("tool", "test tool", all_event_flags);

    CHECK_THAT(usage_error(cl, {"-p", "abc"}), Contains("'abc'"));
    CHECK_THAT(usage_error(cl, {"-p", "-5"}), Contains("'-5'"));
    CHECK_THAT(usage_error(cl, {"-p", "0"}), Contains("'0'"));
    CHECK_THAT(usage_error(cl, {"-p", "99999999"}), Contains("'99999999'"));
    CHECK_THAT(usage_error(cl, {"-p", "4194305"}), Contains("'4194305'"));
    CHECK_THAT(usage_error(cl, {"-p", "18446744073709551616"}), Contains("'18446744073709551616'"));
    CHECK_THAT(usage_error(cl, {"-p", "5x"}), Contains("'5x'"));
    CHECK_THAT(usage_error(cl, {"-p", " 5"}), Contains("' 5'"));
    CHECK_THAT(usage_error(cl, {"--pid="}), Contains("PID"));
    CHECK_THAT(usage_error(cl, {"--pid=abc"}), Contains("'abc'"));
    CHECK_THAT(usage_error(cl, {"-pabc"}), Contains("'abc'"));
    CHECK_THAT(usage_error(cl, {"-t", "0"}), Contains("'0'"));
    CHECK_THAT(usage_error(cl, {"-t", "tid"}), Contains("'tid'"));
    CHECK_THAT(usage_error(cl, {"-u", "root"}), Contains("'root'"));
    CHECK_THAT(usage_error(cl, {"-u", "-1"}), Contains("'-1'"));
    CHECK_THAT(usage_error(cl, {"-u", "4294967295"}), Contains("'4294967295'"));
    CHECK_THAT(usage_error(cl, {"-c", "/nonexistent-cgroup"}), Contains("/nonexistent-cgroup"));
    CHECK_THAT(usage_error(cl, {"-n", ""}), Contains("name"));
    CHECK_THAT(usage_error(cl, {"-o", "xml"}), Contains("'xml'"));
    CHECK_THAT(usage_error(cl, {"--output=yaml"}), Contains("'yaml'"));

    SECTION("durations") {
        CHECK_THAT(usage_error(cl, {"-d", "0"}), Contains("'0'"));
        CHECK_THAT(usage_error(cl, {"-d", "abc"}), Contains("'abc'"));
        CHECK_THAT(usage_error(cl, {"-d", "-1"}), Contains("'-1'"));
        CHECK_THAT(usage_error(cl, {"-d", "nan"}), Contains("'nan'"));
        CHECK_THAT(usage_error(cl, {"-d", "inf"}), Contains("'inf'"));
        CHECK_THAT(usage_error(cl, {"-d", "5s"}), Contains("'5s'"));
        CHECK_THAT(usage_error(cl, {"--duration="}), Contains("duration"));
    }
}

TEST_CASE("cli: unknown flags, missing values and conflicts", "[cli]") {
    CommandLine cl("tool", "test tool", all_event_flags);

    CHECK_THAT(usage_error(cl, {"-z"}), Contains("-z"));
    CHECK_THAT(usage_error(cl, {"--frobnicate"}), Contains("--frobnicate"));
    CHECK_THAT(usage_error(cl, {"--frobnicate=1"}), Contains("--frobnicate"));
    // An unknown letter inside a cluster is named too.
    CHECK_THAT(usage_error(cl, {"-xzT"}), Contains("-z"));

    CHECK_THAT(usage_error(cl, {"-p"}), Contains("-p"));
    CHECK_THAT(usage_error(cl, {"--pid"}), Contains("--pid"));
    CHECK_THAT(usage_error(cl, {"-x", "-d"}), Contains("-d"));
    CHECK_THAT(usage_error(cl, {"-o"}), Contains("-o"));
    CHECK_THAT(usage_error(cl, {"--json=yes"}), Contains("--json"));
    CHECK_THAT(usage_error(cl, {"--time=1"}), Contains("--time"));

    std::string both = usage_error(cl, {"-p", "1", "-t", "2"});
    CHECK_THAT(both, Contains("-p"));
    CHECK_THAT(both, Contains("-t"));
    CHECK_THAT(usage_error(cl, {"-t", "2", "--pid=1"}), Contains("-t"));

    // Event tools take no positionals.
    CHECK_THAT(usage_error(cl, {"5"}), Contains("'5'"));
    CHECK_THAT(usage_error(cl, {"-T", "extra"}), Contains("'extra'"));
    CHECK_THAT(usage_error(cl, {"--", "-x"}), Contains("'-x'"));
}

TEST_CASE("cli: a shared flag the tool did not enable is rejected", "[cli]") {
    CommandLine cl("summary", "summary tool", {Flag::pid, Flag::milliseconds});
    CHECK(parse_ok(cl, {"-p", "1", "-m"}).milliseconds);

    CHECK_THAT(usage_error(cl, {"-t", "1"}), Contains("-t"));
    CHECK_THAT(usage_error(cl, {"--tid", "1"}), Contains("--tid"));
    CHECK_THAT(usage_error(cl, {"-x"}), Contains("-x"));
    CHECK_THAT(usage_error(cl, {"--failed"}), Contains("--failed"));
    CHECK_THAT(usage_error(cl, {"-T"}), Contains("-T"));
    CHECK_THAT(usage_error(cl, {"-U"}), Contains("-U"));
    CHECK_THAT(usage_error(cl, {"-u", "0"}), Contains("-u"));
    CHECK_THAT(usage_error(cl, {"-c", "/"}), Contains("-c"));
    CHECK_THAT(usage_error(cl, {"-n", "x"}), Contains("-n"));
    CHECK_THAT(usage_error(cl, {"-d", "1"}), Contains("-d"));
    CHECK_THAT(usage_error(cl, {"--duration=1"}), Contains("--duration"));
    CHECK_THAT(usage_error(cl, {"1"}), Contains("'1'")); // no Flag::interval

    // The flags every tool has are still there.
    CommonOptions common = parse_ok(cl, {"-v", "--json", "--dry-run"});
    CHECK(common.verbose);
    CHECK(common.dry_run);
    CHECK(common.format == OutputFormat::json);
}

TEST_CASE("cli: -o prometheus only where the tool declares it", "[cli]") {
    CommandLine with("histogram", "a tool with a collector", {Flag::prometheus});
    CHECK(parse_ok(with, {"-o", "prometheus"}).format == OutputFormat::prometheus);
    CHECK(parse_ok(with, {"--output=prometheus", "-o", "json"}).format == OutputFormat::json);
    CHECK_THAT(usage_error(with, {"-o", "yaml"}), Contains("text, json or prometheus"));
    CommandLine without("events", "a tool without one", {});
    CHECK(parse_ok(without, {"-o", "text"}).format == OutputFormat::text);
    CHECK_THAT(usage_error(without, {"-o", "prometheus"}), Contains("must be text or json"));
}

TEST_CASE("cli: interval and count positionals", "[cli]") {
    CommandLine cl("summary", "summary tool", {Flag::pid, Flag::milliseconds, Flag::interval});

    CommonOptions none = parse_ok(cl, {});
    CHECK_FALSE(none.interval.has_value());
    CHECK_FALSE(none.count.has_value());

    CommonOptions one = parse_ok(cl, {"5"});
    CHECK(one.interval == 5u);
    CHECK_FALSE(one.count.has_value());

    CommonOptions two = parse_ok(cl, {"1", "10"});
    CHECK(two.interval == 1u);
    CHECK(two.count == 10u);

    CommonOptions mixed = parse_ok(cl, {"-m", "2", "-p", "9", "3"});
    CHECK(mixed.milliseconds);
    CHECK(mixed.pids == std::vector<uint32_t>{9});
    CHECK(mixed.interval == 2u);
    CHECK(mixed.count == 3u);

    CHECK_THAT(usage_error(cl, {"0"}), Contains("'0'"));
    CHECK_THAT(usage_error(cl, {"1", "0"}), Contains("'0'"));
    CHECK_THAT(usage_error(cl, {"abc"}), Contains("'abc'"));
    CHECK_THAT(usage_error(cl, {"1", "x"}), Contains("'x'"));
    CHECK_THAT(usage_error(cl, {"1.5"}), Contains("'1.5'"));
    CHECK_THAT(usage_error(cl, {"1", "2", "3"}), Contains("'3'"));
    CHECK_THAT(usage_error(cl, {"--", "-1"}), Contains("'-1'"));
}

TEST_CASE("cli: a tool's own positional argument", "[cli]") {
    CommandLine cl("slower", "slow calls", {Flag::pid});
    std::string given;
    cl.set_positional("min_ms", "the same as --min MS", [&given](std::string_view v) {
        parse_milliseconds("minimum latency", v);
        given = std::string(v);
    });

    parse_ok(cl, {});
    CHECK(given.empty());
    CommonOptions o = parse_ok(cl, {"-p", "7", "1.5"});
    CHECK(given == "1.5");
    CHECK(o.pids == std::vector<uint32_t>{7});
    parse_ok(cl, {"0", "-p", "7"}); // before the options too
    CHECK(given == "0");

    CHECK_THAT(usage_error(cl, {"1", "2"}), Contains("unexpected argument '2'"));
    CHECK_THAT(usage_error(cl, {"abc"}), Contains("'abc'")); // the setter's error
    CHECK_THAT(cl.help(), Contains("Usage: slower [OPTIONS] [min_ms]\n"));
    CHECK_THAT(cl.help(), Contains("  min_ms                    the same as --min MS\n"));
    CHECK_THAT(cl.help(), !Contains("interval"));
}

TEST_CASE("cli: a tool's own positional argument before interval [count]", "[cli]") {
    CommandLine cl("funccount", "count calls", {Flag::pid, Flag::interval});
    std::string given;
    cl.set_positional("PATTERN", "what to count",
                      [&given](std::string_view v) { given = std::string(v); });

    CommonOptions none = parse_ok(cl, {});
    CHECK(given.empty());
    CHECK_FALSE(none.interval.has_value());
    CommonOptions pattern = parse_ok(cl, {"c:malloc"});
    CHECK(given == "c:malloc");
    CHECK_FALSE(pattern.interval.has_value());
    CommonOptions both = parse_ok(cl, {"-p", "7", "t:sched:*", "2", "5"});
    CHECK(given == "t:sched:*");
    CHECK(both.interval == 2u);
    CHECK(both.count == 5u);
    CHECK_THAT(usage_error(cl, {"x", "1", "2", "3"}), Contains("'3'"));
    CHECK_THAT(usage_error(cl, {"x", "y"}), Contains("'y'"));
    CHECK_THAT(cl.help(), Contains("Usage: funccount [OPTIONS] [PATTERN] [interval [count]]\n"));
    CHECK_THAT(cl.help(), Contains("  PATTERN                   what to count\n"));
    CHECK_THAT(cl.help(), Contains("  interval "));
}

TEST_CASE("cli: usage and --version name the program as it was invoked", "[cli]") {
    CommandLine cl("fsslower", "slow calls", {Flag::pid});
    CHECK_THAT(cl.help(), Contains("Usage: fsslower "));
    set_program_name("ext4slower"); // run_tool, for a link named ext4slower
    CHECK_THAT(cl.help(), Contains("Usage: ext4slower "));
    CommonOptions options;
    std::string printed = capture_stdout([&] { parse(cl, {"--version"}, options); });
    CHECK_THAT(printed, Contains("ext4slower (corescope)"));
    set_program_name("");
    CHECK_THAT(cl.help(), Contains("Usage: fsslower "));
}

TEST_CASE("cli: tool-specific switches and options", "[cli]") {
    CommandLine cl("tool", "test tool", {Flag::pid});
    bool all = false;
    uint64_t size = 0;
    cl.add_switch('a', "all", "show everything", &all);
    cl.add_option('s', "size", "BYTES", "minimum size",
                  [&size](std::string_view v) { size = parse_unsigned("size", v, 1, 1u << 20); });

    SECTION("short forms") {
        parse_ok(cl, {"-a", "-s", "512"});
        CHECK(all);
        CHECK(size == 512);
    }
    SECTION("long forms") {
        parse_ok(cl, {"--all", "--size=4096"});
        CHECK(all);
        CHECK(size == 4096);
        parse_ok(cl, {"--size", "8"});
        CHECK(size == 8);
    }
    SECTION("clustered with shared flags") {
        CommonOptions o = parse_ok(cl, {"-as16", "-p", "3"});
        CHECK(all);
        CHECK(size == 16);
        CHECK(o.pids == std::vector<uint32_t>{3});
    }
    SECTION("not given") {
        parse_ok(cl, {"-p", "3"});
        CHECK_FALSE(all);
        CHECK(size == 0);
    }
    SECTION("the setter's UsageError reaches the caller") {
        CHECK_THAT(usage_error(cl, {"-s", "big"}), Contains("'big'"));
        CHECK_THAT(usage_error(cl, {"--size=0"}), Contains("'0'"));
        CHECK_THAT(usage_error(cl, {"-s"}), Contains("-s"));
        CHECK_THAT(usage_error(cl, {"--all=1"}), Contains("--all"));
    }
    SECTION("listed in --help") {
        std::string help = cl.help();
        CHECK_THAT(help, Contains("-a, --all"));
        CHECK_THAT(help, Contains("show everything"));
        CHECK_THAT(help, Contains("-s, --size BYTES"));
        CHECK_THAT(help, Contains("minimum size"));
    }
}

TEST_CASE("cli: declared rules: flags that exclude each other, a flag that needs another",
          "[cli]") {
    CommandLine cl("tool", "test tool", {Flag::pid, Flag::name, Flag::milliseconds});
    bool per_thread = false, waits = false, holds = false, nanoseconds = false;
    cl.add_switch('P', "per-thread", "a row per thread", &per_thread);
    cl.add_switch(0, "waits-only", "only waits", &waits);
    cl.add_switch(0, "holds-only", "only holds", &holds);
    cl.add_switch('N', "nanoseconds", "in nanoseconds", &nanoseconds);
    cl.exclusive({"--waits-only", "--holds-only", "-N"}, "pick one");
    cl.exclusive({"-m", "-p"}, "");
    cl.needs("-n", "-P", "rows name a thread only per thread");

    // Each alone, and a needed flag given, in either spelling and order.
    parse_ok(cl, {"--waits-only"});
    parse_ok(cl, {"-N", "-m"});
    parse_ok(cl, {"-n", "app", "-P"});
    parse_ok(cl, {"--per-thread", "--name=app"});
    parse_ok(cl, {"-P"});
    // Two of three name all three; the flags given in their other spelling
    // or in a cluster still count.
    CHECK(usage_error(cl, {"--holds-only", "--waits-only"}) ==
          "--waits-only, --holds-only and -N cannot be combined: pick one");
    CHECK(usage_error(cl, {"--nanoseconds", "--holds-only"}) ==
          "--waits-only, --holds-only and -N cannot be combined: pick one");
    CHECK(usage_error(cl, {"-mp", "1"}) == "-m and -p cannot be combined");
    CHECK(usage_error(cl, {"--name", "app"}) == "-n needs -P: rows name a thread only per thread");
    // The ends of a range, each an option's value.
    uint64_t low = 0, high = UINT64_MAX;
    cl.add_number('z', "min-size", "BYTES", "at least", &low, 0, UINT64_MAX);
    cl.add_number('Z', "max-size", "BYTES", "at most", &high, 0, UINT64_MAX);
    cl.ordered("--min-size", &low, "--max-size", &high);
    parse_ok(cl, {"-z", "9", "-Z", "9"});
    parse_ok(cl, {"-z", "9"});
    CHECK(usage_error(cl, {"-z", "9", "--max-size=4"}) ==
          "invalid --min-size 9: above --max-size 4");
    // The shared -p and -t are one such rule.
    CommandLine filters("tool", "test tool", {Flag::pid, Flag::tid});
    CHECK(usage_error(filters, {"-t", "2", "--pid=1"}) ==
          "-p and -t cannot be combined: a thread filter already names its process");
}

TEST_CASE("cli: a rule that names no option of the tool fails every parse", "[cli]") {
    CommandLine cl("tool", "test tool", {Flag::pid});
    cl.needs("-p", "--per-thread", "");
    CommonOptions options;
    std::vector<const char*> argv = {"tool"};
    CHECK_THROWS_AS(cl.parse(static_cast<int>(argv.size()), argv.data(), options),
                    std::logic_error);
}

TEST_CASE("cli: --help and --version exit successfully", "[cli]") {
    CommandLine cl("opensnoop", "Trace open() family syscalls.", all_event_flags);

    CommonOptions options;
    ParseResult result = ParseResult::run;
    std::string printed = capture_stdout([&] { result = parse(cl, {"--help"}, options); });
    CHECK(result == ParseResult::exit_success);
    CHECK(printed == cl.help());
    CHECK_THAT(printed, Contains("Usage: opensnoop"));
    CHECK_THAT(printed, Contains("Trace open() family syscalls."));

    printed = capture_stdout([&] { result = parse(cl, {"-T", "-h"}, options); });
    CHECK(result == ParseResult::exit_success);
    CHECK(printed == cl.help());

    // --help wins even when a later argument would be an error.
    printed = capture_stdout([&] { result = parse(cl, {"--help", "--bogus"}, options); });
    CHECK(result == ParseResult::exit_success);

    printed = capture_stdout([&] { result = parse(cl, {"--version"}, options); });
    CHECK(result == ParseResult::exit_success);
    CHECK_THAT(printed, Contains("opensnoop"));
    CHECK_THAT(printed, Contains("corescope"));
}

TEST_CASE("cli: help lists each enabled flag and none of the disabled ones", "[cli]") {
    struct Entry {
        Flag flag;
        const char* line; // how the flag appears in --help
    };
    const std::vector<Entry> entries = {
        {Flag::pid, "-p, --pid PID"},
        {Flag::tid, "-t, --tid TID"},
        {Flag::uid, "-u, --uid UID"},
        {Flag::cgroup, "-c, --cgroup PATH"},
        {Flag::name, "-n, --name TEXT"},
        {Flag::failed, "-x, --failed"},
        {Flag::time, "-T, --time"},
        {Flag::print_uid, "-U, --print-uid"},
        {Flag::duration, "-d, --duration SECONDS"},
        {Flag::milliseconds, "-m, --milliseconds"},
    };
    auto help_for = [](const std::vector<Flag>& flags) {
        CommandLine cl("tool", "test tool", flags);
        return cl.help();
    };

    std::string full = help_for(all_event_flags);
    for (const Entry& e : entries)
        CHECK_THAT(full, Contains(e.line));
    for (const char* always : {"-o, --output FORMAT", "--json", "-v, --verbose", "--dry-run",
                               "-h, --help", "--version", "--btf FILE"})
        CHECK_THAT(full, Contains(always));
    CHECK_THAT(full, !Contains("interval"));

    // Each flag alone: listed, and no other shared flag is.
    for (const Entry& only : entries) {
        std::string help = help_for({only.flag});
        INFO("only " << only.line);
        CHECK_THAT(help, Contains(only.line));
        for (const Entry& other : entries) {
            if (other.flag == only.flag) continue;
            std::string long_form = std::string(other.line).substr(4); // "--pid PID"
            long_form = long_form.substr(0, long_form.find(' '));
            CHECK_THAT(help, !Contains(long_form + " ") && !Contains(long_form + "\n"));
            CHECK_THAT(help, !Contains(std::string(other.line, 3))); // "-p,"
        }
    }

    std::string summary = help_for({Flag::interval});
    CHECK_THAT(summary, Contains("[interval [count]]"));
    CHECK_THAT(summary, Contains("interval"));
    CHECK_THAT(summary, Contains("count"));
}

TEST_CASE("cli: --list-options prints one row per option for the completions", "[cli]") {
    CommandLine cl("opensnoop", "Trace open() family syscalls.", {Flag::pid, Flag::failed});
    bool extended = false;
    cl.add_switch('e', "extended", "show the open flags", &extended);
    cl.add_option(0, "max-args", "N", "show at most N arguments", [](std::string_view) {});

    CommonOptions options;
    ParseResult result = ParseResult::run;
    std::string printed = capture_stdout([&] { result = parse(cl, {"--list-options"}, options); });
    CHECK(result == ParseResult::exit_success);
    CHECK(printed == cl.option_table());
    CHECK_THAT(printed, Contains("-p\t--pid\tPID\tonly this process (repeatable)\n"));
    CHECK_THAT(printed, Contains("-x\t--failed\t\t"));
    CHECK_THAT(printed, Contains("-e\t--extended\t\tshow the open flags\n"));
    CHECK_THAT(printed, Contains("\t--max-args\tN\t"));
    CHECK_THAT(printed, Contains("-o\t--output\tFORMAT\t"));
    CHECK_THAT(printed, Contains("-h\t--help\t\t"));
    CHECK_THAT(printed, !Contains("--tid"));
    // Every row has four fields, and every option in --help has a row.
    size_t rows = 0;
    for (size_t start = 0; start < printed.size(); rows++) {
        size_t end = printed.find('\n', start);
        std::string row = printed.substr(start, end - start);
        CHECK(std::count(row.begin(), row.end(), '\t') == 3);
        start = end + 1;
    }
    std::string help = cl.help();
    size_t help_rows = 0;
    for (size_t at = help.find("\n  "); at != std::string::npos; at = help.find("\n  ", at + 1))
        if (help[at + 3] == '-' || help.compare(at + 3, 4, "    ") == 0) help_rows++;
    CHECK(rows == help_rows);
}

TEST_CASE("cli: value parsers", "[cli]") {
    CHECK(parse_unsigned("n", "0", 0, 10) == 0);
    CHECK(parse_unsigned("n", "10", 0, 10) == 10);
    CHECK(parse_unsigned("n", "18446744073709551615", 0, UINT64_MAX) == UINT64_MAX);
    CHECK_THROWS_AS(parse_unsigned("n", "11", 0, 10), UsageError);
    CHECK_THROWS_AS(parse_unsigned("n", "18446744073709551616", 0, UINT64_MAX), UsageError);
    CHECK_THROWS_WITH(parse_unsigned("widgets", "+3", 0, 10),
                      Contains("widgets") && Contains("'+3'"));
    CHECK_THROWS_AS(parse_unsigned("n", "", 0, 10), UsageError);

    CHECK(parse_pid("PID", "1") == 1u);
    CHECK_THROWS_AS(parse_pid("PID", "0"), UsageError);

    CHECK(parse_seconds("duration", "0.25") == Approx(0.25));
    CHECK(parse_seconds("duration", "1e3") == Approx(1000.0));
    CHECK_THROWS_WITH(parse_seconds("duration", "1e30"), Contains("'1e30'"));
    CHECK_THROWS_AS(parse_seconds("duration", ""), UsageError);
}

} // namespace test_cli
