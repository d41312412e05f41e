// klockstat against children of this test whose threads contend on one
// kernel lock: four threads creating and removing directories in one
// directory wait on that directory inode's rw semaphore (down_write in
// filename_create and do_rmdir), which fires lock:contention_begin and
// contention_end reliably. Each check finds the child's rows by caller, kind
// of lock and (with -P) PID.
#include "harness.h"
#include "json_lines.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <pthread.h>
#include <set>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace test_klockstat {

using namespace itest;
using nlohmann::json;

namespace {

constexpr int threads = 4;
constexpr int rounds = 3000; // mkdir and rmdir per thread

struct Worker {
    std::string dir;
    int id;
};

void* churn(void* arg) {
    const Worker* w = static_cast<const Worker*>(arg);
    std::string path = w->dir + "/d" + std::to_string(w->id);
    for (int i = 0; i < rounds; i++) {
        mkdir(path.c_str(), 0700);
        rmdir(path.c_str());
    }
    return nullptr;
}

// The child's work: threads churning directories in dir. 0 when all ran.
int contend(const std::string& dir) {
    pthread_t t[threads];
    Worker w[threads];
    for (int i = 0; i < threads; i++) {
        w[i] = {dir, i};
        if (pthread_create(&t[i], nullptr, churn, &w[i]) != 0) return 1;
    }
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], nullptr);
    return 0;
}

// A directory of the test's own, removed with what is left in it.
class TempDir {
  public:
    TempDir() {
        char name[] = "/tmp/klockstat-XXXXXX";
        if (!mkdtemp(name)) throw std::runtime_error("mkdtemp failed");
        path_ = name;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

std::vector<json> rows_of(const std::string& out) {
    std::vector<json> rows;
    for (const json& r : json_lines(out))
        if (r.at("type") == "stack") rows.push_back(r);
    return rows;
}

// The rows of waits on a directory's rw semaphore, from creating or
// removing a directory.
std::vector<json> directory_rows(const std::vector<json>& rows) {
    std::vector<json> found;
    for (const json& r : rows) {
        if (r.at("lock_type") != "rwsem-write" || r.at("caller").is_null()) continue;
        std::string caller = r.at("caller");
        if (caller.starts_with("filename_create") || caller.starts_with("do_rmdir"))
            found.push_back(r);
    }
    return found;
}

// Counts and times that agree with each other: an average that is the total
// over the count, a longest wait no shorter than it and no longer than the
// total, and waits shorter than a second each.
void check_times(const json& r) {
    uint64_t count = r.at("count"), total = r.at("total_ns"), max = r.at("max_ns"),
             avg = r.at("avg_ns");
    CHECK(count > 0);
    CHECK(avg == total / count);
    CHECK(max >= avg);
    CHECK(max <= total);
    CHECK(max < 1000000000ull);
    CHECK(r.at("lock").get<std::string>().starts_with("0xffff"));
    CHECK(r.at("flags") == 4); // LCB_F_WRITE
}

} // namespace

TEST_CASE("klockstat sums a child's waits on a directory's rw semaphore by caller and stack",
          "[klockstat]") {
    REQUIRE_BPF();
    TempDir dir_a, dir_b;
    std::string comm = unique_comm("klck-");
    GatedChild child([&] { return contend(dir_a.path()); }, comm.c_str());
    GatedChild other([&] { return contend(dir_b.path()); }, "klck-other");
    std::string pid = std::to_string(child.pid());
    ToolProcess text({tool_path("klockstat"), "-p", pid, "-s", "3"});
    ToolProcess jsonl({tool_path("klockstat"), "-p", pid, "-P", "-o", "json"});
    // The raw tracepoint tier, by caller both ways.
    ToolProcess rmdirs({tool_path("klockstat"), "-p", pid, "-o", "json", "--caller", "do_rmdir"},
                       ToolProcess::Stdout::pipe,
                       [] { setenv("CORESCOPE_SKIP_ATTACH", "tp_btf", 1); });
    ToolProcess nobody({tool_path("klockstat"), "-p", pid, "-o", "json", "--caller", "klck_none"});
    // The tracefs tier: -n both ways (with -P), a lock no one waits on.
    ToolProcess named({tool_path("klockstat"), "-P", "-n", comm, "-o", "json", "-S", "acq_count"},
                      ToolProcess::Stdout::pipe,
                      [] { setenv("CORESCOPE_SKIP_ATTACH", "tp_btf,raw_tp", 1); });
    ToolProcess other_lock({tool_path("klockstat"), "-p", pid, "-o", "json", "-L", "0x1000"});
    // -c (the child is in the cgroup, the other is not) with -u, the top
    // row by total wait; -u and -t on their excluded side (the main thread
    // only joins its workers); intervals with -R and -T.
    TestCgroup cgroup(unique_token("klockstat"));
    REQUIRE(!cgroup.path.empty());
    REQUIRE(cgroup.add(child.pid()));
    ToolProcess in_cgroup({tool_path("klockstat"), "-c", cgroup.path, "-u", "0", "-P", "--locks",
                           "1", "-S", "acq_total", "-o", "json", "-v", "--btf",
                           "/sys/kernel/btf/vmlinux"});
    ToolProcess no_user({tool_path("klockstat"), "-p", pid, "-u", "65534", "-o", "json"});
    ToolProcess main_thread({tool_path("klockstat"), "-t", pid, "-o", "json"});
    ToolProcess intervals({tool_path("klockstat"), "-p", pid, "-R", "-T", "-i", "1", "-d", "60",
                           "--stack-storage-size", "1024"});
    for (ToolProcess* p : {&text, &jsonl, &rmdirs, &nobody, &named, &other_lock, &in_cgroup,
                           &no_user, &main_thread, &intervals})
        REQUIRE(p->wait_attached());
    REQUIRE(child.run() == 0);
    REQUIRE(other.run() == 0);

    Finished t = text.stop();
    Finished j = jsonl.stop();
    Finished r = rmdirs.stop();
    Finished none = nobody.stop();
    Finished n = named.stop();
    Finished o = other_lock.stop();
    Finished cg = in_cgroup.stop();
    Finished nu = no_user.stop();
    Finished mt = main_thread.stop();
    Finished iv = intervals.stop();
    for (const Finished* f : {&t, &j, &r, &none, &n, &o, &cg, &nu, &mt, &iv})
        CHECK(f->exit_code == 0);
    INFO("text:\n" << t.out << "\njson:\n" << j.out << "\nstderr: " << j.err);

    // JSON, per thread: the child's waits on its directory, each row one of
    // its threads, with a stack that goes through the directory code.
    std::vector<json> rows = rows_of(j.out);
    std::vector<json> dir_rows = directory_rows(rows);
    REQUIRE(!dir_rows.empty());
    std::set<std::string> locks;
    std::set<uint32_t> tids;
    bool create_seen = false;
    for (const json& row : dir_rows) {
        check_times(row);
        CHECK(row.at("pid") == child.pid());
        CHECK(row.at("comm") == comm);
        locks.insert(row.at("lock").get<std::string>());
        tids.insert(row.at("tid").get<uint32_t>());
        const json& stack = row.at("kernel_stack");
        CHECK((has_frame(stack, "filename_create") || has_frame(stack, "do_rmdir")));
        CHECK((has_frame(stack, "down_write") || has_frame_containing(stack, "rwsem_down")));
        create_seen = create_seen || has_frame(stack, "do_mkdirat");
    }
    CHECK(create_seen);
    CHECK(locks.size() == 1); // one directory, one inode, one semaphore
    CHECK(tids.size() >= 2);  // a wait needs someone holding it: another thread
    // -p: no row of the other child.
    for (const json& row : rows)
        CHECK(row.at("pid") == child.pid());

    // Text: the header, and the directory's waits by caller, three frames.
    CHECK(t.out.find("CALLER") != std::string::npos);
    CHECK(t.out.find("TOTAL WAIT") != std::string::npos);
    CHECK(t.out.find("filename_create+0x") != std::string::npos);
    CHECK(t.out.find("rwsem-write") != std::string::npos);
    CHECK(t.out.find(*locks.begin()) != std::string::npos);
    CHECK(t.out.find("do_mkdirat+0x") != std::string::npos); // -s 3: the frames past the caller

    // --caller do_rmdir on the raw tier: only that caller's rows, the same
    // lock; no caller by that prefix: nothing.
    std::vector<json> rmdir_rows = rows_of(r.out);
    REQUIRE(!rmdir_rows.empty());
    for (const json& row : rmdir_rows) {
        CHECK(row.at("caller").get<std::string>().starts_with("do_rmdir"));
        CHECK(!row.contains("pid")); // one row per lock and stack, not per thread
        CHECK(row.at("lock") == *locks.begin());
        check_times(row);
    }
    CHECK(rows_of(none.out).empty());

    // -n on the tracefs tier: the child's threads, not the other child's.
    std::vector<json> named_rows = directory_rows(rows_of(n.out));
    REQUIRE(!named_rows.empty());
    for (const json& row : rows_of(n.out)) {
        CHECK(row.at("comm") == comm);
        CHECK(row.at("pid") == child.pid());
    }
    // -S acq_count: the most frequent first.
    std::vector<json> by_count = rows_of(n.out);
    for (size_t i = 1; i < by_count.size(); i++)
        CHECK(by_count[i - 1].at("count").get<uint64_t>() >=
              by_count[i].at("count").get<uint64_t>());

    // -L: a lock no one waits on.
    CHECK(rows_of(o.out).empty());

    // -c: one row (--locks 1), the child's, the most total wait of all:
    // the per-thread run's row with the most.
    std::vector<json> cgroup_rows = rows_of(cg.out);
    REQUIRE(cgroup_rows.size() == 1);
    CHECK(cgroup_rows[0].at("pid") == child.pid());
    CHECK(cg.err.find("attach plan") != std::string::npos); // -v
    const json& top = cgroup_rows[0];
    uint64_t most = 0;
    const json* same = nullptr; // the per-thread run's row of the same thread, lock and stack
    for (const json& row : rows) {
        most = std::max(most, row.at("total_ns").get<uint64_t>());
        if (row.at("tid") == top.at("tid") && row.at("lock") == top.at("lock") &&
            row.at("kernel_stack") == top.at("kernel_stack"))
            same = &row;
    }
    REQUIRE(same);
    CHECK(top.at("count") == same->at("count"));
    // Each tool's programs run in turn, so the times differ a little.
    CHECK(top.at("total_ns").get<double>() == Approx(static_cast<double>(most)).epsilon(0.2));
    // -u 65534, -t of the main thread: nothing.
    CHECK(rows_of(nu.out).empty());
    CHECK(rows_of(mt.out).empty());
    // -R -T -i 1: a time line, then the header, per print.
    INFO("intervals:\n" << iv.out);
    size_t header = iv.out.find("CALLER");
    REQUIRE(header != std::string::npos);
    REQUIRE(header >= 9);
    std::string time_line = iv.out.substr(header - 9, 9);
    CHECK(time_line[2] == ':');
    CHECK(time_line[5] == ':');
    CHECK(time_line[8] == '\n');
    CHECK(iv.out.find("rwsem-write") != std::string::npos);
}

TEST_CASE("klockstat refuses hold-time sorts and bad locks with exit 2", "[klockstat]") {
    Finished hold = run({tool_path("klockstat"), "-S", "hld_total"});
    CHECK(hold.exit_code == 2);
    CHECK(hold.err.find("hld_total") != std::string::npos);
    CHECK(hold.err.find("hold times") != std::string::npos);
    Finished lock = run({tool_path("klockstat"), "-L", "no_such_lock_xyz"});
    CHECK(lock.exit_code == 2);
    CHECK(lock.err.find("no_such_lock_xyz") != std::string::npos);
    CHECK(lock.err.find("CONFIG_KALLSYMS_ALL") != std::string::npos);
    Finished name = run({tool_path("klockstat"), "-n", "x"});
    CHECK(name.exit_code == 2);
    CHECK(name.err.find("-P") != std::string::npos);
}

} // namespace test_klockstat
