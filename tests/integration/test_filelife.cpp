// filelife against a child of this test that creates files of its own
// scratch directory by each of the open calls, keeps them a known while and
// deletes them by absolute, relative and directory-relative names; one file
// it opens with O_CREAT already exists (no creation), one has a hostile name.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <ctime>
#include <fcntl.h>
#include <linux/openat2.h>
#include <map>
#include <nlohmann/json.hpp>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace test_filelife {

using namespace itest;
using nlohmann::json;

namespace {

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

void sleep_ms(long ms) {
    timespec ts{ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

// One file's life as the child measured it (CLOCK_MONOTONIC, the clock of
// the tool's timestamps): the age filelife shows lies between the time
// from the create's return to the unlink's call and the time from the
// create's call to the unlink's return.
struct Life {
    uint64_t before_create, after_create, before_unlink, after_unlink, ino;
    double min_s() const { return (before_unlink - after_create) / 1e9; }
    double max_s() const { return (after_unlink - before_create) / 1e9; }
};

enum { aged, made_by_creat, made_by_openat2, hostile_file, last_file, files };

struct Workload {
    std::string dir;
    std::string existing; // opened with O_CREAT but not created by the child
    std::string hostile, hostile_text, hostile_json;
    Life* lives; // shared with the child
    long kept_ms[files] = {300, 100, 50, 10, 0};

    explicit Workload(const std::string& prefix)
        : dir("/tmp/" + unique_token(prefix)), existing(dir + "/existing"),
          hostile(dir + "/evil\n\x1b[31m\xff"), hostile_text(dir + "/evil\\n\\e[31m\\xff"),
          hostile_json(dir + "/evil\n\x1b[31m\xef\xbf\xbd") {
        REQUIRE(mkdir(dir.c_str(), 0700) == 0);
        REQUIRE(mkdir((dir + "/sub").c_str(), 0700) == 0);
        int fd = open(existing.c_str(), O_WRONLY | O_CREAT, 0600);
        REQUIRE(fd >= 0);
        close(fd);
        void* shared = mmap(nullptr, sizeof(Life) * files, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        REQUIRE(shared != MAP_FAILED);
        lives = static_cast<Life*>(shared);
    }
    ~Workload() {
        for (const char* name : {"existing", "aged", "creat-file", "openat2-file", "last-file"})
            unlink((dir + "/" + name).c_str());
        unlink(hostile.c_str());
        rmdir((dir + "/sub").c_str());
        rmdir(dir.c_str());
        munmap(lives, sizeof(Life) * files);
    }

    std::string path(int file) const {
        switch (file) {
        case aged:
            return dir + "/aged";
        case made_by_creat:
            return dir + "/creat-file";
        case made_by_openat2:
            return dir + "/openat2-file";
        case hostile_file:
            return hostile;
        default:
            return dir + "/last-file";
        }
    }

    // Makes file by open (returns its descriptor), keeps it, deletes it by
    // unlink_it, recording its life.
    template <class Open, class Unlink>
    bool life(int file, Open open_it, Unlink unlink_it) const {
        Life& l = lives[file];
        l.before_create = monotonic_ns();
        long fd = open_it();
        l.after_create = monotonic_ns();
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) return false;
        l.ino = st.st_ino;
        close(fd);
        sleep_ms(kept_ms[file]);
        l.before_unlink = monotonic_ns();
        long r = unlink_it();
        l.after_unlink = monotonic_ns();
        return r == 0;
    }

    // Each call through syscall() so that the C library picks none for us.
    int calls() const {
        int dirfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
        if (dirfd < 0 || chdir(dir.c_str()) != 0) return 1;
        // Not a creation: the file was there.
        long fd = syscall(SYS_openat, AT_FDCWD, existing.c_str(), O_WRONLY | O_CREAT, 0600);
        if (fd < 0) return 2;
        close(fd);
        if (syscall(SYS_unlink, existing.c_str()) != 0) return 3;
        if (!life(
                aged,
                [&] {
                    return syscall(SYS_openat, AT_FDCWD, path(aged).c_str(),
                                   O_WRONLY | O_CREAT | O_EXCL, 0600);
                },
                [&] { return syscall(SYS_unlinkat, dirfd, "aged", 0); }))
            return 4;
        if (!life(
                made_by_creat,
                [&] { return syscall(SYS_creat, path(made_by_creat).c_str(), 0600); },
                [&] { return syscall(SYS_unlink, "creat-file"); })) // relative to the cwd
            return 5;
        if (!life(
                made_by_openat2,
                [&] {
                    open_how how{};
                    how.flags = O_WRONLY | O_CREAT;
                    how.mode = 0600;
                    return syscall(SYS_openat2, dirfd, "openat2-file", &how, sizeof how);
                },
                [&] { return syscall(SYS_unlink, "./sub/../openat2-file"); }))
            return 6;
        if (!life(
                hostile_file,
                [&] { return syscall(SYS_open, hostile.c_str(), O_WRONLY | O_CREAT, 0600); },
                [&] { return syscall(SYS_unlink, hostile.c_str()); }))
            return 7;
        if (!life(
                last_file,
                [&] {
                    return syscall(SYS_openat, AT_FDCWD, path(last_file).c_str(),
                                   O_RDWR | O_CREAT | O_TRUNC, 0600);
                },
                [&] { return syscall(SYS_unlinkat, AT_FDCWD, path(last_file).c_str(), 0); }))
            return 8;
        close(dirfd);
        return 0;
    }
};

} // namespace

TEST_CASE("filelife shows each file a process created and deleted, with its age within what "
          "the process measured, on both tiers; -p and -n filter",
          "[filelife]") {
    REQUIRE_BPF();
    Workload w("t16-filelife");
    Workload other_w("t16-filelife-other");
    std::string comm = unique_comm("life-");
    GatedChild child([&] { return w.calls(); }, comm.c_str());
    // Another process of the test's own, with the same files in a directory
    // of its own under another name: what -p and -n must leave out.
    GatedChild other([&] { return other_w.calls(); }, "t16-other");
    std::string pid = std::to_string(child.pid());

    ToolProcess text({tool_path("filelife"), "-n", comm});
    ToolProcess tracepoints({tool_path("filelife"), "-o", "json", "-p", pid});
    ToolProcess raw({tool_path("filelife"), "-o", "json", "-p", pid}, ToolProcess::Stdout::pipe,
                    [] { setenv("CORESCOPE_SKIP_ATTACH", "tracepoint", 1); });
    for (ToolProcess* t : {&text, &tracepoints, &raw})
        REQUIRE(t->wait_attached());
    REQUIRE(other.run() == 0);
    REQUIRE(child.run() == 0);
    for (ToolProcess* t : {&text, &tracepoints, &raw})
        REQUIRE(t->wait_for_output(w.path(last_file)));
    std::vector<Finished> json_runs = {tracepoints.stop(), raw.stop()};
    Finished t = text.stop();
    CHECK(t.exit_code == 0);

    std::map<std::string, int> file_of_json, file_of_text;
    for (int f = 0; f < files; f++) {
        file_of_json[f == hostile_file ? w.hostile_json : w.path(f)] = f;
        file_of_text[f == hostile_file ? w.hostile_text : w.path(f)] = f;
    }
    const char* unlink_calls[files] = {"unlinkat", "unlink", "unlink", "unlink", "unlinkat"};

    for (size_t i = 0; i < json_runs.size(); i++) {
        INFO("instance " << i << " (0: tracepoints, 1: raw sys_enter/sys_exit)");
        CHECK(json_runs[i].exit_code == 0);
        std::map<int, int> seen;
        for (const json& e : json_lines(json_runs[i].out)) {
            INFO(e.dump());
            REQUIRE(e.at("pid") == child.pid());
            CHECK(e.at("comm") == comm);
            CHECK(e.at("created_by_pid") == child.pid());
            auto it = file_of_json.find(e.at("file").get<std::string>());
            REQUIRE(it != file_of_json.end());
            const Life& l = w.lives[it->second];
            double age = e.at("age_s");
            CHECK(age >= l.min_s() - 1e-6);
            CHECK(age <= l.max_s() + 1e-6);
            CHECK(age >= w.kept_ms[it->second] / 1e3);
            CHECK(e.at("ino") == l.ino);
            CHECK(e.at("call") == unlink_calls[it->second]);
            seen[it->second]++;
        }
        CHECK(seen.size() == files);
        for (auto [file, count] : seen)
            CHECK(count == 1);
    }

    // Text: the header, and one line per file of the child alone (-n).
    CHECK(lines(t.out)[0].find("PID     COMM              AGE(s) FILE") == 0);
    std::map<int, int> text_seen;
    for (const std::string& row : lines_containing(t.out, comm)) {
        INFO(row);
        std::vector<std::string> f = fields(row);
        REQUIRE(f.size() == 4);
        CHECK(f[0] == pid);
        auto it = file_of_text.find(f[3]);
        REQUIRE(it != file_of_text.end());
        const Life& l = w.lives[it->second];
        double age = std::stod(f[2]);
        CHECK(age >= l.min_s() - 0.005);
        CHECK(age <= l.max_s() + 0.005);
        text_seen[it->second]++;
    }
    CHECK(text_seen.size() == files);
    CHECK(t.out.find("existing") == std::string::npos);
    CHECK(t.out.find("t16-other") == std::string::npos);
}

} // namespace test_filelife
