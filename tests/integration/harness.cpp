#include "harness.h"
#include "kernel_features.h"
#include "syscall_tool_runs.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <poll.h>
#include <regex>
#include <sched.h>
#include <sstream>
#include <stdexcept>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <thread>
#include <netinet/tcp.h>
#include <unistd.h>

namespace itest {

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

namespace {

void read_available(int fd, std::string& into) {
    if (fd < 0) return;
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            into.append(buf, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        break;
    }
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

std::string tool_path(const std::string& name) {
    if (const char* dir = std::getenv("CORESCOPE_BUILD_DIR")) return std::string(dir) + "/" + name;
    // Run by hand: this binary lives in BUILD/tests/integration.
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    std::string path(self, n > 0 ? static_cast<size_t>(n) : 0);
    for (int up = 0; up < 3; up++)
        path = path.substr(0, path.rfind('/'));
    return path + "/" + name;
}

std::vector<std::string> tool_names() {
    std::vector<std::string> names;
    std::stringstream in(CORESCOPE_TOOLS);
    for (std::string name; std::getline(in, name, ',');)
        names.push_back(name);
    return names;
}

std::vector<std::string> tools_under_test() {
    std::vector<std::string> all = tool_names();
    const char* chosen = std::getenv("CORESCOPE_TEST_TOOLS");
    if (chosen == nullptr || *chosen == '\0') return all;
    std::vector<std::string> names;
    std::stringstream in(chosen);
    for (std::string name; std::getline(in, name, ',');) {
        if (std::find(all.begin(), all.end(), name) == all.end())
            throw std::runtime_error("CORESCOPE_TEST_TOOLS: no tool '" + name + "' in this build");
        names.push_back(name);
    }
    return names;
}

std::vector<std::string> tool_command(const std::string& name) {
    if (name == "ksnoop") return {tool_path(name), "vfs_read"};
    return {tool_path(name)};
}

std::string kernel_lacks_for(const std::string& tool) {
    if (tool == "mdflush") {
        // md registers its "md" block major when built in or loaded.
        std::ifstream devices("/proc/devices");
        bool block = false;
        for (std::string line; std::getline(devices, line);) {
            if (line.rfind("Block devices:", 0) == 0) block = true;
            std::istringstream words(line);
            std::string major, name;
            if (block && words >> major >> name && name == "md") return {};
        }
        return "no md (software RAID) in this kernel: no 'md' block device in /proc/devices";
    }
    if (tool == "llcstat") {
        // Hardware cache counters: a CPU PMU (most VMs have none).
        if (access("/sys/bus/event_source/devices/cpu", F_OK) != 0)
            return "no hardware cache counters (no CPU PMU in /sys/bus/event_source/devices)";
    }
    if (tool == "cpufreq") {
        // CPU frequencies: a cpufreq driver (most VMs have none).
        if (access("/sys/devices/system/cpu/cpu0/cpufreq", F_OK) != 0)
            return "no cpufreq driver (no /sys/devices/system/cpu/cpu0/cpufreq)";
    }
    if (tool == "ksnoop") {
        // Kernel functions need fentry/fexit or kprobes.
        auto& features = corescope::KernelFeatures::instance();
        if (!features.supports(corescope::AttachKind::fexit, nullptr) &&
            !features.supports(corescope::AttachKind::kprobe, nullptr))
            return "neither fentry/fexit nor kprobes in this kernel";
    }
    return {};
}

bool tool_loads_bpf(const std::string& tool) {
    return tool != "tplist";
}

std::vector<std::string> tools_that_run_here() {
    std::vector<std::string> names;
    for (const std::string& tool : tools_under_test())
        if (kernel_lacks_for(tool).empty() && tool_loads_bpf(tool)) names.push_back(tool);
    return names;
}

std::vector<std::vector<std::string>> in_groups(const std::vector<std::string>& tools,
                                                size_t size) {
    std::vector<std::vector<std::string>> groups;
    for (size_t i = 0; i < tools.size(); i += size)
        groups.emplace_back(tools.begin() + static_cast<std::ptrdiff_t>(i),
                            tools.begin() +
                                static_cast<std::ptrdiff_t>(std::min(i + size, tools.size())));
    return groups;
}

std::string bpf_unavailable_reason() {
    if (geteuid() != 0) return "not running as root";
    int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "itest_probe", 4, 4, 1, nullptr);
    if (fd < 0) return std::string("BPF not permitted here: ") + std::strerror(errno);
    close(fd);
    return {};
}

std::string unique_token(const std::string& prefix) {
    static int counter = 0;
    return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + "-" +
           std::to_string(static_cast<long long>(now_s() * 1000) % 1000000);
}

namespace {

bool is_dry_run(const std::vector<std::string>& argv) {
    return std::find(argv.begin(), argv.end(), "--dry-run") != argv.end();
}

// Plans already read, for tools started without a before_exec (which may set
// the environment a plan depends on, CORESCOPE_SKIP_ATTACH).
std::map<std::vector<std::string>, int>& plan_cache() {
    static std::map<std::vector<std::string>, int> cache;
    return cache;
}

int online_cpu_count() {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<int>(n) : 1;
}

// The links an attach plan (--dry-run -o json) makes: one an attach point,
// but a perf_event one per CPU it samples (profile: --cpu N, else each
// online CPU). 0 if out holds no plan.
int links_in_plan(const std::vector<std::string>& argv, const std::string& out) {
    for (const std::string& line : lines(out)) {
        nlohmann::json plan = nlohmann::json::parse(line, nullptr, false);
        if (plan.is_discarded() || !plan.is_object() || plan.value("type", "") != "attach_plan")
            continue;
        bool one_cpu = std::find(argv.begin(), argv.end(), "--cpu") != argv.end();
        int links = 0;
        for (const nlohmann::json& step : plan.at("steps"))
            for (const nlohmann::json& point : step.at("attach"))
                links += point.at("kind") == "perf_event" && !one_cpu ? online_cpu_count() : 1;
        return links;
    }
    return 0;
}

} // namespace

ToolProcess::ToolProcess(const std::vector<std::string>& argv, Stdout mode,
                         const std::function<void()>& before_exec)
    : argv_(argv) {
    // The plan is read alongside the tool's own start, so waiting for it
    // costs little more time than the tool takes to attach.
    plan_cacheable_ = before_exec == nullptr;
    if (!is_dry_run(argv) && !(plan_cacheable_ && plan_cache().count(argv))) {
        std::vector<std::string> dry = argv;
        dry.insert(dry.end(), {"--dry-run", "-o", "json"});
        plan_ = std::make_unique<ToolProcess>(dry, Stdout::pipe, before_exec);
    }
    int out_pipe[2] = {-1, -1};
    int err_pipe[2];
    if (mode == Stdout::pipe) {
        if (pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    } else {
        char tmpl[] = "/tmp/corescope-itest-out-XXXXXX";
        int fd = mkstemp(tmpl);
        if (fd < 0) throw std::runtime_error("mkstemp failed");
        close(fd);
        out_path_ = tmpl;
    }
    if (pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        if (mode == Stdout::pipe) {
            dup2(out_pipe[1], 1);
        } else {
            int fd = open(out_path_.c_str(), O_WRONLY | O_TRUNC);
            dup2(fd, 1);
        }
        dup2(err_pipe[1], 2);
        if (before_exec) before_exec();
        std::vector<char*> args;
        for (const std::string& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    if (mode == Stdout::pipe) {
        close(out_pipe[1]);
        out_fd_ = out_pipe[0];
        fcntl(out_fd_, F_SETFL, O_NONBLOCK);
    }
    close(err_pipe[1]);
    err_fd_ = err_pipe[0];
    fcntl(err_fd_, F_SETFL, O_NONBLOCK);
}

ToolProcess::~ToolProcess() {
    if (!done_ && pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) close(out_fd_);
    if (err_fd_ >= 0) close(err_fd_);
    if (!out_path_.empty()) unlink(out_path_.c_str());
}

void ToolProcess::collect() {
    read_available(out_fd_, out_);
    read_available(err_fd_, err_);
    if (!out_path_.empty()) out_ = read_file(out_path_);
}

std::string ToolProcess::output_so_far() {
    collect();
    return out_;
}

std::string ToolProcess::error_output_so_far() {
    collect();
    return err_;
}

int ToolProcess::planned_links(double deadline) {
    if (!plan_) {
        auto cached = plan_cache().find(argv_);
        return cached != plan_cache().end() ? cached->second : 0;
    }
    Finished plan = plan_->wait(std::max(1.0, deadline - now_s()));
    plan_.reset();
    int links = plan.exit_code == 0 ? links_in_plan(argv_, plan.out) : 0;
    if (plan_cacheable_ && plan.exit_code == 0) plan_cache()[argv_] = links;
    return links;
}

bool ToolProcess::wait_attached(double timeout_s) {
    double deadline = now_s() + timeout_s;
    int planned = planned_links(deadline);
    // Without a plan: the count has stopped growing when it held for 20
    // polls (200 ms) in a row.
    int last = 0;
    int same = 0;
    while (now_s() < deadline) {
        collect();
        int status;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            done_ = true;
            result_.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            result_.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
            return false;
        }
        int links = bpf_link_count(pid_);
        if (planned > 0 && links >= planned) return true;
        if (planned == 0 && links > 0) {
            same = links == last ? same + 1 : 0;
            if (same >= 20) return true;
        }
        last = links;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

bool ToolProcess::wait_for_output(const std::string& needle, double timeout_s) {
    double deadline = now_s() + timeout_s;
    while (now_s() < deadline) {
        collect();
        if (out_.find(needle) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

bool ToolProcess::wait_for_error_output(const std::string& needle, double timeout_s) {
    double deadline = now_s() + timeout_s;
    while (now_s() < deadline) {
        collect();
        if (err_.find(needle) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

Finished ToolProcess::finish(double timeout_s) {
    double deadline = now_s() + timeout_s;
    while (!done_) {
        collect();
        int status;
        pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            done_ = true;
            result_.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            result_.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
            break;
        }
        if (now_s() > deadline) {
            kill(pid_, SIGKILL);
            waitpid(pid_, &status, 0);
            done_ = true;
            result_.exit_code = -1;
            result_.signal = SIGKILL;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    collect();
    result_.out = out_;
    result_.err = err_;
    return result_;
}

Finished ToolProcess::stop(int sig, double timeout_s) {
    if (!done_) kill(pid_, sig);
    return finish(timeout_s);
}

Finished ToolProcess::wait(double timeout_s) {
    return finish(timeout_s);
}

Finished run(const std::vector<std::string>& argv, double timeout_s,
             const std::function<void()>& before_exec) {
    ToolProcess p(argv, ToolProcess::Stdout::pipe, before_exec);
    return p.wait(timeout_s);
}

int bpf_link_count(pid_t pid) {
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = opendir(dir.c_str());
    if (!d) return 0;
    int count = 0;
    while (struct dirent* e = readdir(d)) {
        char target[256];
        ssize_t n = readlink((dir + "/" + e->d_name).c_str(), target, sizeof target - 1);
        if (n <= 0) continue;
        target[n] = '\0';
        if (std::strcmp(target, "anon_inode:bpf_link") == 0) count++;
    }
    closedir(d);
    return count;
}

std::set<unsigned> bpf_ids_held_by(pid_t pid, const std::string& field) {
    std::set<unsigned> ids;
    std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
    DIR* d = opendir(dir.c_str());
    if (!d) return ids;
    while (struct dirent* e = readdir(d)) {
        std::ifstream in(dir + "/" + e->d_name);
        for (std::string line; std::getline(in, line);)
            if (line.rfind(field, 0) == 0)
                ids.insert(static_cast<unsigned>(std::stoul(line.substr(field.size()))));
    }
    closedir(d);
    return ids;
}

std::set<unsigned> bpf_programs_held_by(pid_t pid) {
    return bpf_ids_held_by(pid, "prog_id:");
}

std::set<unsigned> bpf_program_ids() {
    std::set<unsigned> ids;
    __u32 id = 0;
    while (bpf_prog_get_next_id(id, &id) == 0)
        ids.insert(id);
    return ids;
}

std::set<unsigned> bpf_programs_unowned(const std::set<unsigned>& ids) {
    std::set<unsigned> unowned = ids;
    DIR* proc = opendir("/proc");
    if (!proc) return unowned;
    while (struct dirent* e = readdir(proc)) {
        if (unowned.empty()) break;
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (*e->d_name == '\0' || *end != '\0') continue;
        for (unsigned id : bpf_programs_held_by(static_cast<pid_t>(pid)))
            unowned.erase(id);
    }
    closedir(proc);
    return unowned;
}

std::vector<std::string> bpf_program_names(const std::set<unsigned>& ids) {
    std::vector<std::string> names;
    for (unsigned id : ids) {
        int fd = bpf_prog_get_fd_by_id(id);
        if (fd < 0) continue; // gone meanwhile
        struct bpf_prog_info info {};
        __u32 len = sizeof info;
        if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) names.emplace_back(info.name);
        close(fd);
    }
    return names;
}

BpfRunStats::BpfRunStats() : fd_(bpf_enable_stats(BPF_STATS_RUN_TIME)) {}

BpfRunStats::~BpfRunStats() {
    if (fd_ >= 0) close(fd_);
}

ProgramRuns bpf_program_runs(pid_t pid) {
    ProgramRuns total;
    for (unsigned id : bpf_programs_held_by(pid)) {
        int fd = bpf_prog_get_fd_by_id(id);
        if (fd < 0) continue;
        struct bpf_prog_info info {};
        __u32 len = sizeof info;
        if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
            total.runs += info.run_cnt;
            total.recursion_misses += info.recursion_misses;
        }
        close(fd);
    }
    return total;
}

bool write_text(const std::string& path, const std::string& value) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
    close(fd);
    return ok;
}

bool have_command(const std::string& name) {
    return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

bool sh(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

NetNamespace::NetNamespace(const std::string& prefix) : name_(unique_token(prefix)) {
    ok_ = sh("ip netns add " + name_) && sh("ip netns exec " + name_ + " ip link set lo up");
}

NetNamespace::~NetNamespace() {
    sh("ip netns del " + name_);
}

bool NetNamespace::exec(const std::string& command) const {
    return sh("ip netns exec " + name_ + " " + command);
}

bool NetNamespace::enter() const {
    int fd = open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
    bool entered = fd >= 0 && setns(fd, CLONE_NEWNET) == 0;
    if (fd >= 0) close(fd);
    return entered;
}

uint64_t snmp_counter(const std::string& group, const std::string& name) {
    // "Tcp: name name ..." followed by "Tcp: value value ...".
    std::ifstream in("/proc/net/snmp");
    std::vector<std::string> names;
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> f = fields(line);
        if (f.empty() || f[0] != group + ":") continue;
        if (names.empty()) {
            names = f;
            continue;
        }
        for (size_t i = 1; i < f.size() && i < names.size(); i++)
            if (names[i] == name) return std::stoull(f[i]);
        return 0;
    }
    return 0;
}

Ports provoke_retransmissions(const NetNamespace& ns, int drop_ms) {
    int pipefd[2];
    if (pipe(pipefd) != 0) return {};
    pid_t child = fork();
    if (child == 0) {
        Ports ports;
        if (!ns.enter()) _exit(1);
        int listener = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1); // 127.0.0.2; the client is 127.0.0.1
        if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            listen(listener, 1) != 0)
            _exit(2);
        ports.server = local_port(listener);
        addr.sin_port = htons(ports.server);
        int client = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) _exit(3);
        int server = accept(listener, nullptr, nullptr);
        if (server < 0) _exit(4);
        ports.client = local_port(client);
        std::string port = std::to_string(ports.server);
        if (!ns.exec("nft add table inet cs_drop") ||
            !ns.exec("nft add chain inet cs_drop input '{ type filter hook input priority 0; }'") ||
            !ns.exec("nft add rule inet cs_drop input tcp dport " + port + " drop"))
            _exit(5);
        char data[1000] = {};
        uint64_t before = snmp_counter("Tcp", "RetransSegs");
        if (send(client, data, sizeof data, 0) != static_cast<ssize_t>(sizeof data)) _exit(6);
        std::this_thread::sleep_for(std::chrono::milliseconds(drop_ms));
        if (!ns.exec("nft delete table inet cs_drop")) _exit(7);
        size_t got = 0;
        while (got < sizeof data) {
            ssize_t n = recv(server, data, sizeof data - got, 0);
            if (n <= 0) _exit(8);
            got += static_cast<size_t>(n);
        }
        ports.retransmissions = snmp_counter("Tcp", "RetransSegs") - before;
        _exit(write(pipefd[1], &ports, sizeof ports) == sizeof ports ? 0 : 9);
    }
    close(pipefd[1]);
    Ports ports;
    if (read(pipefd[0], &ports, sizeof ports) != sizeof ports) ports = {};
    close(pipefd[0]);
    int status = 0;
    waitpid(child, &status, 0);
    return ports;
}

TestCgroup::TestCgroup(const std::string& name) {
    std::ifstream in("/proc/self/mountinfo");
    for (std::string line; std::getline(in, line);) {
        // ... mount-point ... - fstype source options
        std::istringstream fields(line);
        std::string id, parent, dev, root, mount_point, word;
        fields >> id >> parent >> dev >> root >> mount_point;
        while (fields >> word && word != "-") {
        }
        std::string fstype;
        fields >> fstype;
        if (fstype != "cgroup2") continue;
        std::string dir = mount_point + "/" + name;
        if (mkdir(dir.c_str(), 0755) == 0) {
            path = dir;
            return;
        }
    }
}

bool TestCgroup::add(pid_t pid) const {
    std::ofstream procs(path + "/cgroup.procs");
    procs << pid << std::endl;
    return static_cast<bool>(procs);
}

TestCgroup::~TestCgroup() {
    if (path.empty()) return;
    // The members have exited; the kernel may take a moment to let go.
    for (int i = 0; i < 100 && rmdir(path.c_str()) != 0; i++)
        usleep(20000);
}

MemoryLimitedCgroup::MemoryLimitedCgroup(const std::string& name, unsigned long long limit_bytes) {
    std::string limit = std::to_string(limit_bytes);
    // cgroup v2 at the usual place, with the memory controller delegated.
    if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
        write_text("/sys/fs/cgroup/cgroup.subtree_control", "+memory");
        std::string path = "/sys/fs/cgroup/" + name;
        if (mkdir(path.c_str(), 0755) == 0) {
            if (write_text(path + "/memory.max", limit)) {
                write_text(path + "/memory.swap.max", "0");
                path_ = path;
                return;
            }
            rmdir(path.c_str());
        }
        why_ = "cannot limit memory in a cgroup v2 child of /sys/fs/cgroup";
        return;
    }
    // The v1 memory hierarchy (hybrid setups).
    if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0) {
        std::string path = "/sys/fs/cgroup/memory/" + name;
        if (mkdir(path.c_str(), 0755) == 0) {
            if (write_text(path + "/memory.limit_in_bytes", limit)) {
                write_text(path + "/memory.memsw.limit_in_bytes", limit);
                path_ = path;
                return;
            }
            rmdir(path.c_str());
        }
        why_ = "cannot limit memory in a cgroup v1 memory child";
        return;
    }
    why_ = "no cgroup memory controller mounted";
}

MemoryLimitedCgroup::~MemoryLimitedCgroup() {
    if (path_.empty()) return;
    // The members have exited; the kernel may take a moment to let go.
    for (int i = 0; i < 100 && rmdir(path_.c_str()) != 0; i++)
        usleep(20000);
}

std::string MemoryLimitedCgroup::limit_file() const {
    return path_ + (access((path_ + "/memory.max").c_str(), F_OK) == 0 ? "/memory.max"
                                                                       : "/memory.limit_in_bytes");
}

bool MemoryLimitedCgroup::enter() const {
    return ok() && write_text(path_ + "/cgroup.procs", std::to_string(getpid()));
}

ColdFile::ColdFile(size_t size) : path_("/var/tmp/" + unique_token("cold-file")) {
    int fd = open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;
    std::string chunk(1 << 20, 'c');
    bool written = true;
    for (size_t done = 0; written && done < size; done += chunk.size())
        written = write(fd, chunk.data(), chunk.size()) == static_cast<ssize_t>(chunk.size());
    ok_ = written && fdatasync(fd) == 0 && posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0;
    close(fd);
}

ColdFile::~ColdFile() {
    unlink(path_.c_str());
}

int read_in_cgroup(const MemoryLimitedCgroup& cgroup, const std::string& path) {
    if (!cgroup.enter()) return 1;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 2;
    static char buffer[1 << 20];
    ssize_t n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0) {
    }
    close(fd);
    return n == 0 ? 0 : 3;
}

SwapFile::SwapFile(size_t bytes) : path_("/var/tmp/" + unique_token("cs-swap")) {
    if (!have_command("mkswap") || !have_command("swapon") || !have_command("swapoff")) {
        why_ = "needs mkswap, swapon and swapoff (util-linux)";
        return;
    }
    on_ = sh("dd if=/dev/zero of=" + path_ + " bs=1M count=" + std::to_string(bytes >> 20) +
             " status=none && chmod 600 " + path_ + " && mkswap " + path_ +
             " >/dev/null && swapon " + path_);
    if (!on_) why_ = "cannot make and turn on a swap file in /var/tmp";
}

SwapFile::~SwapFile() {
    if (on_) sh("swapoff " + path_);
    unlink(path_.c_str());
}

bool allow_swap(const MemoryLimitedCgroup& cgroup) {
    if (cgroup.limit_file().find("memory.max") != std::string::npos)
        return write_text(cgroup.path() + "/memory.swap.max", "max");
    return write_text(cgroup.path() + "/memory.memsw.limit_in_bytes", "-1");
}

int swap_out_and_in(const MemoryLimitedCgroup& cgroup, size_t bytes) {
    if (!cgroup.enter()) return 1;
    size_t page = static_cast<size_t>(getpagesize());
    auto* p = static_cast<volatile uint64_t*>(
        mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED) return 2;
    size_t words = page / sizeof(uint64_t);
    for (size_t i = 0; i < bytes / page; i++)
        p[i * words] = i + 1;
    uint64_t wrong = 0;
    for (size_t i = 0; i < bytes / page; i++)
        wrong += p[i * words] != i + 1;
    munmap(const_cast<uint64_t*>(p), bytes);
    return wrong ? 3 : 0;
}

LoopDisk::LoopDisk(size_t size) : file_("/var/tmp/" + unique_token("cs-loop")) {
    int fd = open(file_.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0 || posix_fallocate(fd, 0, static_cast<off_t>(size)) != 0) {
        if (fd >= 0) close(fd);
        return;
    }
    close(fd);
    Finished f = run({"/usr/sbin/losetup", "--find", "--show", file_});
    std::vector<std::string> w = fields(f.out);
    if (f.exit_code == 0 && w.size() == 1) path_ = w[0];
}

LoopDisk::~LoopDisk() {
    if (!path_.empty()) run({"/usr/sbin/losetup", "-d", path_});
    unlink(file_.c_str());
}

namespace {

bool direct_io_from_start(const std::string& path, bool write, size_t size, int count) {
    int fd = open(path.c_str(), (write ? O_WRONLY : O_RDONLY) | O_DIRECT | O_CLOEXEC);
    if (fd < 0) return false;
    void* buffer = nullptr;
    bool ok = posix_memalign(&buffer, 4096, size) == 0;
    if (ok) memset(buffer, 0x5a, size);
    for (int i = 0; ok && i < count; i++) {
        off_t offset = static_cast<off_t>(i * size);
        ssize_t done = write ? pwrite(fd, buffer, size, offset) : pread(fd, buffer, size, offset);
        ok = done == static_cast<ssize_t>(size);
    }
    free(buffer);
    close(fd);
    return ok;
}

} // namespace

bool direct_reads(const std::string& path, size_t size, int count) {
    return direct_io_from_start(path, false, size, count);
}

bool direct_writes(const std::string& path, size_t size, int count) {
    return direct_io_from_start(path, true, size, count);
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::string line;
    std::istringstream in(text);
    while (std::getline(in, line))
        out.push_back(line);
    return out;
}

uint64_t lost_on_stderr(const std::string& err) {
    uint64_t total = 0;
    std::regex lost("lost ([0-9]+) events");
    for (const std::string& line : lines(err)) {
        std::smatch m;
        if (std::regex_search(line, m, lost)) total += std::stoull(m[1]);
    }
    return total;
}

TraceInstance::TraceInstance(const std::string& event, const std::string& filter) : event_(event) {
    static int made = 0; // one name per instance, in this process
    dir_ = "/sys/kernel/tracing/instances/corescope-test-" + std::to_string(getpid()) + "-" +
           std::to_string(made++);
    rmdir(dir_.c_str()); // a killed run's, should its PID come again
    if (mkdir(dir_.c_str(), 0700) != 0) return;
    std::string events = dir_ + "/events/" + event_;
    ok_ = write_text(dir_ + "/buffer_size_kb", "1024") && write_text(events + "/filter", filter) &&
          write_text(events + "/enable", "1");
}

TraceInstance::~TraceInstance() {
    write_text(dir_ + "/events/" + event_ + "/enable", "0");
    rmdir(dir_.c_str());
}

std::vector<TraceInstance::Record> TraceInstance::records() const {
    // "  comm-pid  [cpu] flags  seconds: event: fields"
    std::vector<Record> out;
    std::string name = event_.substr(event_.find('/') + 1) + ": ";
    std::ifstream in(dir_ + "/trace");
    for (std::string line; std::getline(in, line);) {
        size_t cpu = line.find(" [");
        size_t at = line.find(name);
        if (line.starts_with("#") || cpu == std::string::npos || at == std::string::npos) continue;
        Record r;
        size_t start = line.find_first_not_of(' ');
        r.task = line.substr(start, cpu - start);
        r.task.erase(r.task.find_last_not_of(' ') + 1);
        r.pid = std::atoi(r.task.substr(r.task.rfind('-') + 1).c_str());
        r.fields = line.substr(at + name.size());
        out.push_back(std::move(r));
    }
    return out;
}

bool bpf_blind_task(const std::string& task) {
    return task.starts_with("tokio-rt-worker-");
}

uint64_t skipped_on_stderr(const std::string& err) {
    std::regex skipped("skipped ([0-9]+) runs");
    for (const std::string& line : lines(err)) {
        std::smatch m;
        if (std::regex_search(line, m, skipped)) return std::stoull(m[1]);
    }
    return 0;
}

std::vector<std::string> lines_containing(const std::string& text, const std::string& needle) {
    std::vector<std::string> out;
    for (const std::string& line : lines(text))
        if (line.find(needle) != std::string::npos) out.push_back(line);
    return out;
}

sockaddr_storage loopback(int family, uint16_t port) {
    sockaddr_storage addr{};
    if (family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&addr);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1); // 127.0.0.2
    } else {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        in6->sin6_addr = in6addr_loopback;
    }
    return addr;
}

uint16_t local_port(int fd) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&addr)->sin_port
                                           : reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
}

QueuedListener::QueuedListener(int backlog) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage addr = loopback(AF_INET, 0);
    if (fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(sockaddr_in)) == 0 &&
        listen(fd_, backlog) == 0)
        port = local_port(fd_);
}

QueuedListener::~QueuedListener() {
    for (int c : clients_)
        close(c);
    if (fd_ >= 0) close(fd_);
}

uint32_t QueuedListener::queue_length() const {
    tcp_info info{};
    socklen_t len = sizeof info;
    if (getsockopt(fd_, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return 0;
    return info.tcpi_unacked;
}

bool QueuedListener::fill(int connects, int queued) {
    for (int i = 0; i < connects; i++) {
        bool fits = i < queued;
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (fits ? 0 : SOCK_NONBLOCK), 0);
        clients_.push_back(c);
        sockaddr_storage addr = loopback(AF_INET, port);
        int rc = connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof(sockaddr_in));
        if (fits && rc != 0) return false;
        if (!fits) continue;
        // The handshake completes in the kernel: wait for it in the queue.
        for (int tries = 0; queue_length() < static_cast<uint32_t>(i + 1); tries++) {
            if (tries == 2000) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    return queue_length() == static_cast<uint32_t>(queued);
}

std::vector<std::string> fields(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string f; in >> f;)
        out.push_back(f);
    return out;
}

std::vector<std::vector<std::string>> rows_ending_in(const std::string& text,
                                                     const std::string& last) {
    std::vector<std::vector<std::string>> out;
    for (const std::string& line : lines(text)) {
        std::vector<std::string> f = fields(line);
        if (!f.empty() && f.back() == last) out.push_back(std::move(f));
    }
    return out;
}

std::string self_pid() {
    return std::to_string(getpid());
}

std::string unique_comm(const std::string& prefix) {
    return prefix + std::to_string(getpid() % 100000);
}

std::set<unsigned> programs_still_loaded(const std::set<unsigned>& held, double timeout_s) {
    double deadline = now_s() + timeout_s;
    for (;;) {
        std::set<unsigned> left;
        for (unsigned id : bpf_program_ids())
            if (held.count(id)) left.insert(id);
        if (left.empty() || now_s() >= deadline) return left;
        usleep(20000);
    }
}

ScratchFile::ScratchFile(size_t size)
    : path_("/tmp/" + unique_token("scratch") + ".dat"), size_(size) {
    std::string data(size, 'a');
    int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ok_ = fd >= 0 && write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
          fsync(fd) == 0;
    if (fd >= 0) close(fd);
}

ScratchFile::~ScratchFile() {
    unlink(path_.c_str());
}

bool ScratchFile::direct_reads(size_t size, int count) const {
    return direct_io(O_RDONLY, size, count);
}

bool ScratchFile::direct_writes(size_t size, int count) const {
    return direct_io(O_WRONLY | O_DSYNC, size, count);
}

bool ScratchFile::direct_io(int flags, size_t size, int count) const {
    int fd = open(path_.c_str(), flags | O_DIRECT | O_CLOEXEC);
    if (fd < 0) return false;
    void* buffer = nullptr;
    bool ok = posix_memalign(&buffer, 4096, size) == 0;
    if (ok) std::memset(buffer, 'b', size);
    for (int i = 0; ok && i < count; i++) {
        off_t offset = static_cast<off_t>((static_cast<size_t>(i) * size) % size_);
        ssize_t done =
            (flags & O_WRONLY) ? pwrite(fd, buffer, size, offset) : pread(fd, buffer, size, offset);
        ok = done == static_cast<ssize_t>(size);
    }
    free(buffer);
    close(fd);
    return ok;
}

namespace {

// The sysfs directory of a block device (a disk or a partition).
std::string sys_block_dir(dev_t dev) {
    return "/sys/dev/block/" + std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
}

} // namespace

std::vector<std::pair<uint64_t, uint64_t>> ScratchFile::disk_sectors() const {
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ranges;
    constexpr unsigned max_extents = 64;
    std::vector<char> buffer(sizeof(fiemap) + max_extents * sizeof(fiemap_extent));
    auto* map = reinterpret_cast<fiemap*>(buffer.data());
    map->fm_length = FIEMAP_MAX_OFFSET;
    map->fm_flags = FIEMAP_FLAG_SYNC;
    map->fm_extent_count = max_extents;
    bool ok = ioctl(fd, FS_IOC_FIEMAP, map) == 0;
    struct stat st {};
    ok = ok && fstat(fd, &st) == 0;
    close(fd);
    // All of the file or nothing: a partial map would make the caller's sums
    // fail for the wrong reason.
    ok = ok && map->fm_mapped_extents > 0 &&
         (map->fm_extents[map->fm_mapped_extents - 1].fe_flags & FIEMAP_EXTENT_LAST);
    if (!ok) return ranges;
    // FIEMAP counts from the start of the file system's device; a request's
    // sector counts from the start of the whole disk.
    uint64_t partition_start = 0;
    std::ifstream start(sys_block_dir(st.st_dev) + "/start");
    if (start) start >> partition_start;
    for (unsigned i = 0; i < map->fm_mapped_extents; i++) {
        const fiemap_extent& e = map->fm_extents[i];
        uint64_t first = partition_start + e.fe_physical / 512;
        uint64_t end = first + e.fe_length / 512;
        // One request may span two extents that lie end to end on the disk.
        if (!ranges.empty() && ranges.back().second == first)
            ranges.back().second = end;
        else
            ranges.emplace_back(first, end);
    }
    return ranges;
}

uint64_t pages_of(size_t bytes) {
    return bytes / static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

uint64_t resident_pages(int fd, size_t size) {
    void* map = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    REQUIRE(map != MAP_FAILED);
    std::vector<unsigned char> vec(pages_of(size));
    REQUIRE(mincore(map, size, vec.data()) == 0);
    munmap(map, size);
    uint64_t n = 0;
    for (unsigned char v : vec)
        n += v & 1;
    return n;
}

std::string disk_of(const std::string& path, unsigned* major_out, unsigned* minor_out) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return {};
    std::string sys = sys_block_dir(st.st_dev);
    char real[PATH_MAX];
    if (!realpath(sys.c_str(), real)) return {};
    std::string dir = real;
    if (access((dir + "/partition").c_str(), F_OK) == 0) dir = dir.substr(0, dir.rfind('/'));
    std::ifstream dev(dir + "/dev");
    char colon;
    unsigned maj = 0, min = 0;
    dev >> maj >> colon >> min;
    if (major_out) *major_out = maj;
    if (minor_out) *minor_out = min;
    return dir.substr(dir.rfind('/') + 1);
}

GatedChild::GatedChild(const std::function<int()>& work, const char* name) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
        close(fds[1]);
        if (name) prctl(PR_SET_NAME, name);
        char c;
        if (syscall(SYS_read, fds[0], &c, 1) != 1) _exit(100);
        _exit(work());
    }
    close(fds[0]);
    go_fd_ = fds[1];
    // Until the child is in that read (its number in /proc/PID/syscall).
    for (int i = 0; i < 5000; i++) {
        std::ifstream in("/proc/" + std::to_string(pid_) + "/syscall");
        std::string nr;
        if (in >> nr && nr == std::to_string(SYS_read)) return;
        usleep(1000);
    }
    FAIL("the child never blocked on its pipe");
}

GatedChild::~GatedChild() {
    if (go_fd_ >= 0) close(go_fd_); // an unrun child reads EOF and exits 100
    if (!reaped_) waitpid(pid_, nullptr, 0);
}

int GatedChild::run() {
    REQUIRE(write(go_fd_, "g", 1) == 1);
    close(go_fd_);
    go_fd_ = -1;
    int status = 0;
    REQUIRE(waitpid(pid_, &status, 0) == pid_);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

SyscallToolRuns run_on_both_syscall_tiers(const std::string& tool, GatedChild& child,
                                          GatedChild& other, const std::string& comm,
                                          const std::string& last) {
    std::string pid = std::to_string(child.pid());
    ToolProcess text({tool_path(tool), "-n", comm});
    ToolProcess tracepoints({tool_path(tool), "-o", "json", "-p", pid});
    ToolProcess raw({tool_path(tool), "-o", "json", "-p", pid}, ToolProcess::Stdout::pipe,
                    [] { setenv("CORESCOPE_SKIP_ATTACH", "tracepoint", 1); });
    ToolProcess failed({tool_path(tool), "-x", "-o", "json", "-n", comm});
    for (ToolProcess* t : {&text, &tracepoints, &raw, &failed})
        REQUIRE(t->wait_attached());
    REQUIRE(other.run() == 0);
    REQUIRE(child.run() == 0);
    for (ToolProcess* t : {&text, &tracepoints, &raw, &failed})
        REQUIRE(t->wait_for_output(last));
    SyscallToolRuns runs;
    runs.text = text.stop();
    runs.json = {tracepoints.stop(), raw.stop()};
    runs.failed = failed.stop();
    return runs;
}

bool loopback_session(uint16_t* port) {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listener, 4) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return false;
    *port = ntohs(addr.sin_port);
    int client = socket(AF_INET, SOCK_STREAM, 0);
    bool ok = client >= 0 && connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    int server = ok ? accept(listener, nullptr, nullptr) : -1;
    char data[100] = {};
    ok = server >= 0 && send(client, data, sizeof data, 0) == sizeof data &&
         recv(server, data, sizeof data, MSG_WAITALL) == sizeof data &&
         send(server, data, sizeof data, 0) == sizeof data &&
         recv(client, data, sizeof data, MSG_WAITALL) == sizeof data;
    for (int fd : {client, server, listener})
        if (fd >= 0) close(fd);
    return ok;
}

TimedSummary timed_summary_with_btf_copy(const std::string& tool) {
    TimedSummary run;
    std::string btf = "/tmp/" + unique_token(tool + "-btf") + ".btf";
    REQUIRE(std::filesystem::copy_file("/sys/kernel/btf/vmlinux", btf));
    constexpr double duration_s = 3;
    double started = now_s();
    ToolProcess p({tool_path(tool), "-T", "--btf", btf, "-d", "3"});
    bool attached = p.wait_attached();
    bool session = attached && loopback_session(&run.port);
    Finished f = p.wait(duration_s + 30);
    unlink(btf.c_str());
    REQUIRE(attached);
    REQUIRE(session);
    CHECK(f.exit_code == 0);
    CHECK(now_s() - started >= duration_s);
    INFO(f.out);
    run.out = f.out;
    run.lines = lines(f.out);
    REQUIRE(!run.lines.empty());
    CHECK(std::regex_search(run.lines[0], std::regex(R"(^\[?\d\d:\d\d:\d\d\]?$)")));
    return run;
}

} // namespace itest

// Enters nanosleep with its own syscall instruction, so the blocked thread's
// user instruction pointer is in this function (a libc wrapper would be the
// innermost frame instead, and frame-pointer unwinding through it can skip
// its caller). Not static, not inlined: the symbolizer must find it
// (offcputime's and the flame graph's tests look for it by name).
extern "C" __attribute__((noinline)) void corescope_test_nanosleeper(long ms, int times) {
    for (int i = 0; i < times; i++) {
        struct timespec ts {
            ms / 1000, (ms % 1000) * 1000000
        };
#if defined(__x86_64__)
        long ret;
        asm volatile("syscall"
                     : "=a"(ret)
                     : "0"(static_cast<long>(SYS_nanosleep)), "D"(&ts), "S"(nullptr)
                     : "rcx", "r11", "memory");
#elif defined(__aarch64__)
        register long x8 asm("x8") = SYS_nanosleep;
        register long x0 asm("x0") = reinterpret_cast<long>(&ts);
        register long x1 asm("x1") = 0;
        asm volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1) : "memory");
#else
        syscall(SYS_nanosleep, &ts, nullptr);
#endif
    }
}
