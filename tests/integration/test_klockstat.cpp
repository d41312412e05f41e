// klockstat against children of this test whose threads contend on one
// kernel lock: four threads creating and removing directories in one
// directory wait on that directory inode's rw semaphore (down_write in
// filename_create and do_rmdir), which fires lock:contention_begin and
// contention_end reliably. Each check finds the child's rows by caller, kind
// of lock and (with -P) PID.
//
// Locks held for a known time: a read of a pipe into a page that
// userfaultfd fills only later keeps the pipe's mutex (pipe_read) until
// then, and a write of a file from such a page keeps the file's inode rw
// semaphore; a second thread writing to the same pipe or file meanwhile
// waits about that long. Where the kernel lets klockstat probe mutex_lock
// and its kin (fentry or kprobes: not this machine's 6.18), the holds are
// timed too; elsewhere it says in one line that they are not.
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
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
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

// A row's figures agree with each other: the average is the total over the
// count, the longest between them.
void check_consistent(const json& r) {
    uint64_t count = r.at("count"), total = r.at("total_ns"), max = r.at("max_ns"),
             avg = r.at("avg_ns");
    CHECK(count > 0);
    CHECK(avg == total / count);
    CHECK(max >= avg);
    CHECK(max <= total);
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

// Locks held for a known time (see the top of the file): count times each,
// ms milliseconds, the pipe's mutex and file's rw semaphore; a thread named
// klck-wait waits for each while it is held.
struct Holds {
    int uffd = -1, pipe_w = -1, file_fd = -1, faults = 0, ms = 0;
    long page = 0;
    int faulted = 0; // faults seen so far: klck-wait's cue
};

void* fill_pages(void* arg) {
    Holds* h = static_cast<Holds*>(arg);
    for (int i = 0; i < h->faults; i++) {
        uffd_msg msg{};
        pollfd p{h->uffd, POLLIN, 0};
        if (poll(&p, 1, -1) != 1 || read(h->uffd, &msg, sizeof msg) != sizeof msg) _exit(3);
        if (msg.event != UFFD_EVENT_PAGEFAULT) _exit(3);
        __atomic_store_n(&h->faulted, i + 1, __ATOMIC_RELEASE);
        timespec held{h->ms / 1000, (h->ms % 1000) * 1000000L};
        nanosleep(&held, nullptr);
        uffdio_zeropage zero{};
        zero.range.start = msg.arg.pagefault.address & ~static_cast<uint64_t>(h->page - 1);
        zero.range.len = static_cast<uint64_t>(h->page);
        if (ioctl(h->uffd, UFFDIO_ZEROPAGE, &zero) != 0) _exit(3);
    }
    return nullptr;
}

void* wait_for_locks(void* arg) {
    Holds* h = static_cast<Holds*>(arg);
    prctl(PR_SET_NAME, "klck-wait");
    for (int i = 1; i <= h->faults; i++) {
        while (__atomic_load_n(&h->faulted, __ATOMIC_ACQUIRE) < i)
            sched_yield();
        int fd = i % 2 == 1 ? h->pipe_w : h->file_fd;
        if (write(fd, "w", 1) != 1) _exit(4);
    }
    return nullptr;
}

// The child's work; 0 when every lock was held.
int hold_locks(int count, int ms, const std::string& file) {
    Holds h;
    h.faults = 2 * count;
    h.ms = ms;
    h.page = sysconf(_SC_PAGESIZE);
    int p[2];
    if (pipe(p) != 0) return 1;
    h.pipe_w = p[1];
    int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    h.file_fd = open(file.c_str(), O_WRONLY | O_APPEND);
    h.uffd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC));
    if (fd < 0 || h.file_fd < 0 || h.uffd < 0) return 1;
    uffdio_api api{};
    api.api = UFFD_API;
    if (ioctl(h.uffd, UFFDIO_API, &api) != 0) return 1;
    size_t length = static_cast<size_t>(h.faults) * static_cast<size_t>(h.page);
    void* map = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) return 1;
    char* pages = static_cast<char*>(map);
    uffdio_register reg{};
    reg.range.start = reinterpret_cast<uint64_t>(pages);
    reg.range.len = length;
    reg.mode = UFFDIO_REGISTER_MODE_MISSING;
    if (ioctl(h.uffd, UFFDIO_REGISTER, &reg) != 0) return 1;
    pthread_t filler, waiter;
    if (pthread_create(&filler, nullptr, fill_pages, &h) != 0 ||
        pthread_create(&waiter, nullptr, wait_for_locks, &h) != 0)
        return 1;
    for (int i = 0; i < count; i++) {
        char* into = pages + static_cast<size_t>(2 * i) * static_cast<size_t>(h.page);
        char* from = into + h.page;
        // A byte to read, so pipe_read copies at once, into the missing page.
        if (write(p[1], "r", 1) != 1 || read(p[0], into, 1) != 1) return 1;
        if (write(fd, from, 1) != 1) return 1;
    }
    pthread_join(filler, nullptr);
    pthread_join(waiter, nullptr);
    return 0;
}

// One lock's rows of the workload's thread comm: count waits or holds in
// all, on average at least least_ns each, none three times the hold or
// more.
void check_lock_rows(const std::vector<json>& found, const std::string& comm, uint64_t count,
                     uint64_t least_ns, uint64_t held_ns) {
    REQUIRE(!found.empty());
    uint64_t n = 0, total = 0, max = 0;
    for (const json& r : found) {
        CHECK(r.at("comm") == comm);
        n += r.at("count").get<uint64_t>();
        total += r.at("total_ns").get<uint64_t>();
        max = std::max(max, r.at("max_ns").get<uint64_t>());
    }
    CHECK(n == count);
    CHECK(total / n >= least_ns);
    CHECK(max < 3 * held_ns);
}

// The rows of one measure (wait, hold) whose caller's name holds function
// (pipe_write: anon_pipe_write since 6.16) and whose lock is of type.
std::vector<json> rows_by(const std::vector<json>& rows, const std::string& measure,
                          const std::string& function, const std::string& type) {
    std::vector<json> found;
    for (const json& r : rows)
        if (r.at("measure") == measure && r.at("lock_type") == type && r.at("caller").is_string() &&
            r.at("caller").get<std::string>().find(function + "+0x") != std::string::npos)
            found.push_back(r);
    return found;
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

    // --caller do_rmdir on the raw tier: only that caller's rows; those on
    // the semaphore, the same lock (a busy machine also shows waits for the
    // semaphore's own wait_lock spinlock in its slow path, from do_rmdir
    // too); no caller by that prefix: nothing.
    std::vector<json> rmdir_rows = rows_of(r.out);
    REQUIRE(!directory_rows(rmdir_rows).empty());
    for (const json& row : rmdir_rows) {
        CHECK(row.at("caller").get<std::string>().starts_with("do_rmdir"));
        CHECK(!row.contains("pid")); // one row per lock and stack, not per thread
        if (row.at("lock_type") != "rwsem-write") continue;
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
    // -u 65534: nothing. -t of the main thread: none of the directory's
    // waits (it only starts and joins the workers, though it takes other
    // locks meanwhile: the mm's semaphore for each worker's stack, and,
    // under load, run-queue spinlocks when it wakes one).
    CHECK(rows_of(nu.out).empty());
    CHECK(directory_rows(rows_of(mt.out)).empty());
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

TEST_CASE("klockstat times waits and holds of known length, or says it cannot time holds",
          "[klockstat]") {
    REQUIRE_BPF();
    constexpr int count = 4, ms = 100;
    constexpr uint64_t held_ns = ms * 1000000ull;
    TempDir dir;
    std::string file = dir.path() + "/held";
    GatedChild child([&] { return hold_locks(count, ms, file); }, "klck-hold");
    std::string pid = std::to_string(child.pid());
    // Can this kernel time holds at all? (fentry or kprobes on mutex_lock...)
    Finished dry = run({tool_path("klockstat"), "--holds-only", "--dry-run", "-o", "json"});
    bool holds = dry.exit_code == 0;
    INFO("holds-only dry run: " << dry.exit_code << " " << dry.err);
    ToolProcess both(
        {tool_path("klockstat"), "-p", pid, "-P", "-o", "json", "-S", "acq_total,hld_count"});
    ToolProcess text({tool_path("klockstat"), "-p", pid});
    ToolProcess waits({tool_path("klockstat"), "-p", pid, "--waits-only", "-o", "json"});
    for (ToolProcess* p : {&both, &text, &waits})
        REQUIRE(p->wait_attached());
    REQUIRE(child.run() == 0);
    Finished b = both.stop();
    Finished t = text.stop();
    Finished w = waits.stop();
    for (const Finished* f : {&b, &t, &w})
        CHECK(f->exit_code == 0);
    INFO("json:\n" << b.out << "\nstderr: " << b.err << "\ntext:\n" << t.out);

    // The waits: klck-wait's, on the pipe's mutex in pipe_write and on the
    // file's rw semaphore in its file system's write_iter, each about as
    // long as the lock was held (from a little after it was taken).
    std::vector<json> rows = rows_of(b.out);
    for (const json& r : rows) {
        CHECK(r.at("pid") == child.pid());
        check_consistent(r);
    }
    // Waits last from a little after the lock was taken: at least half.
    auto check_waits = [&](const std::vector<json>& found) {
        check_lock_rows(found, "klck-wait", count, held_ns / 2, held_ns);
    };
    check_waits(rows_by(rows, "wait", "pipe_write", "mutex"));
    std::vector<json> file_waits;
    for (const json& r : rows)
        if (r.at("measure") == "wait" && r.at("lock_type") == "rwsem-write" &&
            r.at("comm") == "klck-wait" && r.at("caller").is_string() &&
            r.at("caller").get<std::string>().find("write_iter") != std::string::npos)
            file_waits.push_back(r);
    check_waits(file_waits);
    // -S acq_total: the waits by total, the largest first.
    std::vector<uint64_t> totals;
    for (const json& r : rows)
        if (r.at("measure") == "wait") totals.push_back(r.at("total_ns"));
    CHECK(std::is_sorted(totals.rbegin(), totals.rend()));
    // --waits-only: no holds, and nothing said about them.
    for (const json& r : rows_of(w.out))
        CHECK(r.at("measure") == "wait");
    CHECK(!rows_by(rows_of(w.out), "wait", "pipe_write", "mutex").empty());
    CHECK(w.err.find("hold") == std::string::npos);
    // Text: the waits' table, by caller (anon_pipe_write since 6.16).
    CHECK(t.out.find("TOTAL WAIT") != std::string::npos);
    CHECK(t.out.find("pipe_write+0x") != std::string::npos);

    if (!holds) {
        // No hold times here: one line says what is missing, the waits run,
        // and asking for holds alone finds nothing left to run (exit 1).
        CHECK(dry.exit_code == 1);
        CHECK(dry.err.find("lock hold times") != std::string::npos);
        CHECK(dry.err.find("fentry") != std::string::npos);
        CHECK(dry.err.find("kprobe") != std::string::npos);
        CHECK(std::count(dry.err.begin(), dry.err.end(), '\n') == 1);
        std::string said = "klockstat: lock hold times not traced: this kernel offers no way (";
        CHECK(b.err.find(said) != std::string::npos);
        CHECK(b.err.find(said) == b.err.rfind(said)); // once
        CHECK(t.err.find(said) != std::string::npos);
        CHECK(t.out.find("TOTAL HOLD") == std::string::npos);
        for (const json& r : rows)
            CHECK(r.at("measure") == "wait");
        Finished plan = run({tool_path("klockstat"), "--dry-run", "-o", "json"});
        CHECK(plan.exit_code == 0);
        json p = json::parse(plan.out);
        REQUIRE(p.at("not_traced").size() == 1);
        CHECK(p.at("not_traced").at(0).at("what") == "lock hold times");
        CHECK(p.at("not_traced").at(0).at("passed_over").size() == 2);
        CHECK(p.at("steps").size() == 1);
        // corescope doctor: klockstat available, its waits' tier, and the
        // hold times not traced, with why.
        Finished doctor = run({tool_path("corescope"), "doctor", "klockstat"}, 60);
        CHECK(doctor.exit_code == 0);
        INFO("doctor:\n" << doctor.out);
        CHECK(doctor.out.find("  klockstat      available: tp_btf:contention_begin "
                              "tp_btf:contention_end; lock hold times not traced (fentry: ") !=
              std::string::npos);
        CHECK(doctor.out.find("kprobe: kernel has no kprobes") != std::string::npos);
        return;
    }
    // Hold times: the main thread's, the pipe's mutex from pipe_read and
    // the file's rw semaphore, each held the known time, count times.
    auto check_holds = [&](const std::vector<json>& found) {
        check_lock_rows(found, "klck-hold", count, held_ns, held_ns);
    };
    check_holds(rows_by(rows, "hold", "pipe_read", "mutex"));
    std::vector<json> file_holds;
    for (const json& r : rows)
        if (r.at("measure") == "hold" && r.at("lock_type") == "rwsem-write" &&
            r.at("comm") == "klck-hold" && r.at("max_ns").get<uint64_t>() >= held_ns)
            file_holds.push_back(r);
    check_holds(file_holds);
    CHECK(t.out.find("TOTAL HOLD") != std::string::npos);
    CHECK(t.out.find("pipe_read+0x") != std::string::npos);
}

TEST_CASE("klockstat refuses bad sorts, both -only switches and bad locks with exit 2",
          "[klockstat]") {
    for (const char* bad : {"hld_bogus", "acq_max,acq_total", "max", "acq_count,"}) {
        Finished sort = run({tool_path("klockstat"), "-S", bad});
        INFO(bad);
        CHECK(sort.exit_code == 2);
        CHECK(sort.err.find(std::string("'") + bad + "'") != std::string::npos);
    }
    Finished both = run({tool_path("klockstat"), "--waits-only", "--holds-only"});
    CHECK(both.exit_code == 2);
    CHECK(both.err.find("--holds-only") != std::string::npos);
    Finished lock = run({tool_path("klockstat"), "-L", "no_such_lock_xyz"});
    CHECK(lock.exit_code == 2);
    CHECK(lock.err.find("no_such_lock_xyz") != std::string::npos);
    CHECK(lock.err.find("CONFIG_KALLSYMS_ALL") != std::string::npos);
    Finished name = run({tool_path("klockstat"), "-n", "x"});
    CHECK(name.exit_code == 2);
    CHECK(name.err.find("-P") != std::string::npos);
}

} // namespace test_klockstat
