// Running the real tools from integration tests: start a built tool with its
// stdout on a pipe or in a file, wait until it is attached, drive a workload,
// stop it with a signal, and look at what it printed.
#pragma once

#include "skip.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <sys/socket.h>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace itest {

// The built tool (from CORESCOPE_BUILD_DIR, set by meson test).
std::string tool_path(const std::string& name);
// The command that runs a tool with nothing chosen by the test: its path,
// and the arguments it cannot run without (ksnoop needs a kernel function).
std::vector<std::string> tool_command(const std::string& name);
// Every tool of this build (tool_names in meson.build).
std::vector<std::string> tool_names();
// The tools the cases that span every tool ([common], [faults]) run: every
// tool of the build, or the ones CORESCOPE_TEST_TOOLS names (comma-separated;
// the sanitize suite's representative slice). A name that is not a tool of
// this build throws.
std::vector<std::string> tools_under_test();

// Why this kernel cannot run the tool (it then says so in one line and
// exits 1, which its own test checks), or empty: mdflush without md.
std::string kernel_lacks_for(const std::string& tool);
// False for a tool that loads no BPF and attaches nothing (tplist reads
// files): it has no plan to dry-run and nothing to hold or leave behind.
bool tool_loads_bpf(const std::string& tool);
// tools_under_test() without those this kernel cannot run and those that
// load no BPF: the cases that load and attach every tool.
std::vector<std::string> tools_that_run_here();

// tools in groups of at most size, in order: the cases that run every tool
// run a group side by side (one workload and one wait for the group, not
// one per tool), which keeps their time from growing with each tool added.
std::vector<std::vector<std::string>> in_groups(const std::vector<std::string>& tools,
                                                size_t size = 8);

// Empty when this process may load BPF programs; otherwise why not.
std::string bpf_unavailable_reason();

// In a test that needs BPF: where this process may not load BPF programs,
// the case is skipped (skip.h) with the reason.
#define REQUIRE_BPF()                                                                              \
    do {                                                                                           \
        std::string why = ::itest::bpf_unavailable_reason();                                       \
        if (!why.empty()) SKIP_CASE(why);                                                          \
    } while (0)

// In a test that makes network namespaces and nftables rules: without nft
// and ip, the case is skipped (skip.h) with what to install.
#define REQUIRE_NETNS_TOOLS()                                                                      \
    do {                                                                                           \
        if (!::itest::have_command("nft") || !::itest::have_command("ip"))                         \
            SKIP_CASE("needs nft and ip (scripts/setup.sh installs nftables and iproute2)");       \
    } while (0)

// A unique token for this test run, for paths and argv the tools must see.
std::string unique_token(const std::string& prefix);

struct Finished {
    int exit_code = -1; // -1: did not exit by itself in time (killed)
    int signal = 0;     // the signal that ended it, if any
    std::string out;
    std::string err;
};

// Runs to completion (killed after timeout_s).
Finished run(const std::vector<std::string>& argv, double timeout_s = 20,
             const std::function<void()>& before_exec = {});

// A child blocked in read() on a pipe (its system call entered before any
// tool attaches, so no tool counts it) until run(), which lets it call
// work() and returns its exit status (work's return), -1 if it was killed.
// Its command name is name where one is given.
class GatedChild {
  public:
    explicit GatedChild(const std::function<int()>& work, const char* name = nullptr);
    ~GatedChild();
    GatedChild(const GatedChild&) = delete;
    GatedChild& operator=(const GatedChild&) = delete;
    pid_t pid() const { return pid_; }
    int run();

  private:
    pid_t pid_ = -1;
    int go_fd_ = -1;
    bool reaped_ = false;
};

class ToolProcess {
  public:
    enum class Stdout { pipe, file };
    // before_exec runs in the child just before exec (drop privileges,
    // enter a namespace, ...); it must only make async-signal-safe calls.
    explicit ToolProcess(const std::vector<std::string>& argv, Stdout mode = Stdout::pipe,
                         const std::function<void()>& before_exec = {});
    ~ToolProcess();
    ToolProcess(const ToolProcess&) = delete;
    ToolProcess& operator=(const ToolProcess&) = delete;

    pid_t pid() const { return pid_; }
    // Waits until the tool holds every BPF link of its attach plan (the plan
    // its --dry-run -o json prints with the same arguments and environment,
    // run alongside the tool), or, where it prints none (corescope triage),
    // until the count has stopped growing. Returns false on timeout or early
    // exit.
    bool wait_attached(double timeout_s = 30);
    // Waits until stdout contains needle.
    bool wait_for_output(const std::string& needle, double timeout_s = 10);
    // Waits until stderr contains needle.
    bool wait_for_error_output(const std::string& needle, double timeout_s = 10);
    // Sends sig and waits for the exit; kills after timeout_s.
    Finished stop(int sig = 2 /* SIGINT */, double timeout_s = 10);
    // Waits for the tool to exit on its own.
    Finished wait(double timeout_s = 20);
    std::string output_so_far();
    std::string error_output_so_far();

  private:
    void collect();
    Finished finish(double timeout_s);
    // The links the plan asks for; 0 where the tool printed no plan.
    int planned_links(double deadline);
    std::vector<std::string> argv_;
    std::unique_ptr<ToolProcess> plan_; // the --dry-run, started with the tool
    bool plan_cacheable_ = false;       // no before_exec: the same argv, the same plan
    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    std::string out_path_;
    std::string out_;
    std::string err_;
    bool done_ = false;
    Finished result_;
};

// Count of BPF links the process holds (anon_inode:bpf_link fds).
int bpf_link_count(pid_t pid);
// The IDs of the BPF objects of one kind ("prog_id:", "map_id:", "link_id:")
// that a process holds through its file descriptors.
std::set<unsigned> bpf_ids_held_by(pid_t pid, const std::string& field);
// IDs of the BPF programs a process holds (through program and link fds).
std::set<unsigned> bpf_programs_held_by(pid_t pid);
// IDs of all BPF programs loaded in the kernel now.
std::set<unsigned> bpf_program_ids();
// Names of the programs whose IDs are in ids.
std::vector<std::string> bpf_program_names(const std::set<unsigned>& ids);
// The programs among ids that no live process holds: after a tool has
// exited, those are what it left in the kernel. Programs of other BPF users
// on the machine (held by their own processes) are not counted.
std::set<unsigned> bpf_programs_unowned(const std::set<unsigned>& ids);

// While one exists, the kernel counts the runs of every BPF program
// (BPF_ENABLE_STATS: counted by holders, so tests running at the same time
// do not turn it off for each other).
class BpfRunStats {
  public:
    BpfRunStats();
    ~BpfRunStats();
    BpfRunStats(const BpfRunStats&) = delete;
    BpfRunStats& operator=(const BpfRunStats&) = delete;
    bool ok() const { return fd_ >= 0; }

  private:
    int fd_ = -1;
};
// How often the kernel ran the BPF programs a process holds (counted only
// while a BpfRunStats exists), and how often it skipped one because it was
// already running on that CPU (recursion_misses).
struct ProgramRuns {
    uint64_t runs = 0;
    uint64_t recursion_misses = 0;
};
ProgramRuns bpf_program_runs(pid_t pid);

// Is this command on PATH?
bool have_command(const std::string& name);
// Runs a shell command quietly; true when it exited 0.
bool sh(const std::string& command);

// A loopback address and port of family (AF_INET or AF_INET6): 127.0.0.2,
// so that an unbound IPv4 client comes from 127.0.0.1 and a swap of local
// and remote shows; ::1 for IPv6.
sockaddr_storage loopback(int family, uint16_t port);
// The local port a socket is bound to (IPv4 or IPv6).
uint16_t local_port(int fd);

// A listener on 127.0.0.1 with a backlog, and connections left in its
// accept queue (never accepted), for the tools that watch the queue.
class QueuedListener {
  public:
    explicit QueuedListener(int backlog);
    ~QueuedListener();
    QueuedListener(const QueuedListener&) = delete;
    QueuedListener& operator=(const QueuedListener&) = delete;

    // Makes connects connections, the first queued of them each waited for
    // in the queue before the next (so the queue is 0, 1, 2... long as
    // each arrives); the rest only started, their SYN dropped when the
    // queue is full. True when the queue ends queued long.
    bool fill(int connects, int queued);
    // The accept queue's length: a listener's tcpi_unacked.
    uint32_t queue_length() const;

    uint16_t port = 0; // 0 when the listener could not be made

  private:
    int fd_ = -1;
    std::vector<int> clients_;
};

// A loopback TCP session of the test's own, in the calling process: a
// listener on 127.0.0.1 (its port in *port), a connection to it, 100 bytes
// each way, all closed. False if a step failed.
bool loopback_session(uint16_t* port);
// A summary tool run with -T, --btf (a copy of the kernel's BTF) and -d 3
// around one loopback_session: checks that it ends by itself, with status
// 0, after the 3 s, and that its first line is the time; returns its
// output (and its lines) and the session's port. For the flags the TCP
// summary tools' own cases do not take.
struct TimedSummary {
    std::string out;
    std::vector<std::string> lines;
    uint16_t port = 0;
};
TimedSummary timed_summary_with_btf_copy(const std::string& tool);

// A tracefs instance of the test's own recording one event, filtered: what
// the kernel did, to hold a tool's account against. ftrace runs where BPF
// programs may not (on this suite's sandbox, softirqs on top of its agent's
// thread: docs/reliability.md). Removed on destruction.
class TraceInstance {
  public:
    // event: "SYSTEM/EVENT"; filter: in tracefs's filter syntax.
    TraceInstance(const std::string& event, const std::string& filter);
    ~TraceInstance();
    TraceInstance(const TraceInstance&) = delete;
    TraceInstance& operator=(const TraceInstance&) = delete;
    bool ok() const { return ok_; }
    struct Record {
        std::string task; // the task it ran in, as "comm-pid"
        pid_t pid = 0;
        std::string fields; // "name=value ..." after the event's name
    };
    std::vector<Record> records() const;

  private:
    std::string dir_, event_;
    bool ok_ = false;
};
// Whether a TraceInstance record's task is one on top of which the kernel
// of this suite's sandbox runs no BPF program, for any tool alike: its
// agent's thread, tokio-rt-worker (docs/reliability.md). An event there is
// one no tool can see.
bool bpf_blind_task(const std::string& task);

// A network namespace of the test's own with its loopback up; deleted on
// destruction. Needs ip (iproute2).
class NetNamespace {
  public:
    explicit NetNamespace(const std::string& prefix = "cs-netns");
    ~NetNamespace();
    NetNamespace(const NetNamespace&) = delete;
    NetNamespace& operator=(const NetNamespace&) = delete;
    bool ok() const { return ok_; }
    const std::string& name() const { return name_; }
    // Runs a shell command inside the namespace.
    bool exec(const std::string& command) const;
    // Moves the calling process into the namespace.
    bool enter() const;

  private:
    std::string name_;
    bool ok_ = false;
};

struct Ports {
    uint16_t client = 0;
    uint16_t server = 0;
    // The namespace's own count of retransmitted segments (TcpRetransSegs)
    // over the workload: the connection's, nothing else runs there.
    uint64_t retransmissions = 0;
};

// A counter of /proc/net/snmp in the calling process's network namespace,
// as "Tcp" "RetransSegs"; 0 if absent.
uint64_t snmp_counter(const std::string& group, const std::string& name);

// In a child inside ns: a connection from 127.0.0.1 to 127.0.0.2; then
// segments to the server port are dropped (nftables) for drop_ms while the
// client sends, so it retransmits; then the rule goes and the data must
// arrive. Returns the ports and the retransmissions, or zeros when the
// workload could not run.
Ports provoke_retransmissions(const NetNamespace& ns, int drop_ms);

// A writable cgroup v2 directory of the test's own (on whichever cgroup2
// mount this machine has), removed at the end; path is empty where there is
// none.
struct TestCgroup {
    std::string path;
    explicit TestCgroup(const std::string& name);
    ~TestCgroup();
    TestCgroup(const TestCgroup&) = delete;
    TestCgroup& operator=(const TestCgroup&) = delete;
    bool add(pid_t pid) const;
};

// A cgroup with a memory limit, on cgroup v2 (memory.max) or on the v1
// memory hierarchy (memory.limit_in_bytes), whichever this machine has.
// Removed on destruction. ok() is false, with why(), where neither works.
class MemoryLimitedCgroup {
  public:
    MemoryLimitedCgroup(const std::string& name, unsigned long long limit_bytes);
    ~MemoryLimitedCgroup();
    MemoryLimitedCgroup(const MemoryLimitedCgroup&) = delete;
    MemoryLimitedCgroup& operator=(const MemoryLimitedCgroup&) = delete;
    bool ok() const { return !path_.empty(); }
    const std::string& why() const { return why_; }
    // The cgroup's directory; its limit is in limit_file().
    const std::string& path() const { return path_; }
    std::string limit_file() const;
    // Moves the calling process into the cgroup (call it in a child).
    bool enter() const;

  private:
    std::string path_;
    std::string why_;
};

// A file of size bytes on disk (in /var/tmp, which is not tmpfs: its pages
// are clean page cache that reclaim can drop without swap), written, synced
// and dropped from the page cache, so that reading it charges every page to
// the reader's memory cgroup. Removed on destruction.
class ColdFile {
  public:
    explicit ColdFile(size_t size);
    ~ColdFile();
    ColdFile(const ColdFile&) = delete;
    ColdFile& operator=(const ColdFile&) = delete;
    bool ok() const { return ok_; }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
    bool ok_ = false;
};

// In a child: enters cgroup and reads the whole file at path; 0 on success.
// A file larger than the cgroup's limit makes the child reclaim from its
// cgroup (memory cgroup reclaim) again and again.
int read_in_cgroup(const MemoryLimitedCgroup& cgroup, const std::string& path);

// A swap file of the test's own in /var/tmp (on disk), turned on while it
// lives, then off and removed. ok() is false, with why(), where mkswap or
// swapon is missing or fails.
class SwapFile {
  public:
    explicit SwapFile(size_t bytes);
    ~SwapFile();
    SwapFile(const SwapFile&) = delete;
    SwapFile& operator=(const SwapFile&) = delete;
    bool ok() const { return on_; }
    const std::string& why() const { return why_; }

  private:
    std::string path_;
    std::string why_;
    bool on_ = false;
};

// Lets the cgroup's tasks swap (MemoryLimitedCgroup allows none).
bool allow_swap(const MemoryLimitedCgroup& cgroup);

// In a child: enters cgroup, writes bytes of anonymous memory (no page all
// zeros: 6.12+ writes none of those to swap), then reads every page back;
// 0 when every page read back what was written. In a cgroup limited below
// bytes with swap on, the pages beyond the limit go out to swap and come
// back, read by this process.
int swap_out_and_in(const MemoryLimitedCgroup& cgroup, size_t bytes);

// A loop device over a file of the test's own (in /var/tmp), size bytes:
// a disk in /sys/block, and a workqueue (loopN), that only this test uses,
// so every request on it is the workload's. Detached on destruction; path()
// is empty where losetup failed.
class LoopDisk {
  public:
    explicit LoopDisk(size_t size);
    ~LoopDisk();
    LoopDisk(const LoopDisk&) = delete;
    LoopDisk& operator=(const LoopDisk&) = delete;
    const std::string& path() const { return path_; }
    // loop0 for /dev/loop0.
    std::string name() const { return path_.substr(path_.rfind('/') + 1); }

  private:
    std::string file_;
    std::string path_;
};

// count O_DIRECT reads of size bytes each from path (a loop device's node,
// a file), one after the other from offset 0; false if any failed. Each
// is one block request of that size where the disk's limits allow it.
bool direct_reads(const std::string& path, size_t size, int count);
// The same with O_DIRECT writes (no O_DSYNC: no cache flush follows them).
bool direct_writes(const std::string& path, size_t size, int count);

// Splits text into lines (without the newline).
std::vector<std::string> lines(const std::string& text);
// The lines of text that contain needle.
std::vector<std::string> lines_containing(const std::string& text, const std::string& needle);

// The events a tool said it lost, summed over its "lost N events" lines.
uint64_t lost_on_stderr(const std::string& err);
// The runs of its BPF programs a tool said the kernel skipped (another BPF
// program was running on that CPU), from its "skipped N runs" line.
uint64_t skipped_on_stderr(const std::string& err);
// The whitespace-separated columns of a line of text.
std::vector<std::string> fields(const std::string& line);
// The lines of text, split into fields, whose last field is last.
std::vector<std::vector<std::string>> rows_ending_in(const std::string& text,
                                                     const std::string& last);

// This test process's PID, as an argument for -p.
std::string self_pid();
// A command name (comm) of this test run's own: prefix, then part of its PID.
std::string unique_comm(const std::string& prefix);
// Seconds on the monotonic clock.
double now_s();

// Of the BPF programs in held, those still loaded after waiting up to
// timeout_s for them to go: the kernel frees a program once its last
// reference goes, tp_btf and raw_tp ones after an RCU grace period.
std::set<unsigned> programs_still_loaded(const std::set<unsigned>& held, double timeout_s = 5);

// A file in /tmp of size bytes, written and synced up front, so that
// O_DIRECT reads and overwrites go straight to allocated blocks: one data
// request each, nothing else. Removed on destruction.
class ScratchFile {
  public:
    explicit ScratchFile(size_t size);
    ~ScratchFile();
    ScratchFile(const ScratchFile&) = delete;
    ScratchFile& operator=(const ScratchFile&) = delete;

    bool ok() const { return ok_; }
    const std::string& path() const { return path_; }

    // count O_DIRECT reads of size bytes each, one after the other through
    // the file (wrapping at its end); false if any failed.
    bool direct_reads(size_t size, int count) const;
    // The same with O_DIRECT|O_DSYNC overwrites.
    bool direct_writes(size_t size, int count) const;
    // Where the file's data lies on its whole disk, as [first, end) ranges
    // of 512-byte sectors, the unit of a block request's sector; empty if
    // the file system cannot map all of it (no FIEMAP, too many extents).
    std::vector<std::pair<uint64_t, uint64_t>> disk_sectors() const;

  private:
    bool direct_io(int flags, size_t size, int count) const;
    std::string path_;
    size_t size_;
    bool ok_ = false;
};

// The disk that holds path as the kernel names it (vda, not vda1: requests
// are per whole disk), with its device numbers; empty if unknown.
std::string disk_of(const std::string& path, unsigned* major_out = nullptr,
                    unsigned* minor_out = nullptr);

// Whole pages in bytes, and how many of a file's first size bytes' pages are
// in the page cache now (mincore; cachestat, cachetop, readahead).
uint64_t pages_of(size_t bytes);
uint64_t resident_pages(int fd, size_t size);

// Writes value to a kernel file (cgroup and /proc knobs); false if it could not.
bool write_text(const std::string& path, const std::string& value);

} // namespace itest

// Sleeps times x ms in nanosleep entered from its own system call instruction
// (harness.cpp), so a blocked thread's user stack starts in this function.
extern "C" void corescope_test_nanosleeper(long ms, int times);
