// sofdsnoop against children of this test that pass descriptors of a file and
// a pipe of the test's own over a Unix socket pair, with known numbers.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace test_sofdsnoop {

using namespace itest;
using nlohmann::json;

namespace {

// The numbers the children give the descriptors, so the sender's side is known.
constexpr int send_sock = 100, recv_sock = 101, file_fd = 102, pipe_fd = 103;
constexpr int closed_fd = 999;

// Sends one byte with fds in an SCM_RIGHTS message (none: no control); the
// call's result, or -errno.
long send_fds(const std::vector<int>& fds) {
    char byte = 'f';
    iovec iov{&byte, 1};
    std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (!fds.empty()) {
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t n = sendmsg(send_sock, &msg, 0);
    return n < 0 ? -errno : n;
}

// Receives one message with room for room descriptors (0: no control
// buffer); the descriptors received.
std::vector<int> receive_fds(size_t room) {
    char byte;
    iovec iov{&byte, 1};
    std::vector<char> control(room ? CMSG_SPACE(sizeof(int) * room) : 0);
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = room ? control.data() : nullptr;
    msg.msg_controllen = control.size();
    std::vector<int> fds;
    if (recvmsg(recv_sock, &msg, 0) != 1) return fds;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const unsigned char* data = CMSG_DATA(c);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, data + i * sizeof(int), sizeof fd);
            fds.push_back(fd);
        }
    }
    return fds;
}

struct Files {
    std::string dir = "/tmp/" + unique_token("sofdsnoop");
    std::string name = "passed-file";
    int file = -1;
    int pipe_ends[2] = {-1, -1};
    ino_t file_ino = 0, pipe_ino = 0;

    Files() {
        REQUIRE(mkdir(dir.c_str(), 0700) == 0);
        file = open((dir + "/" + name).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        REQUIRE(file >= 0);
        REQUIRE(pipe2(pipe_ends, O_CLOEXEC) == 0);
        struct stat st;
        REQUIRE(fstat(file, &st) == 0);
        file_ino = st.st_ino;
        REQUIRE(fstat(pipe_ends[0], &st) == 0);
        pipe_ino = st.st_ino;
    }
    ~Files() {
        close(file);
        close(pipe_ends[0]);
        close(pipe_ends[1]);
        unlink((dir + "/" + name).c_str());
        rmdir(dir.c_str());
    }
    std::string pipe_name() const { return "pipe:[" + std::to_string(pipe_ino) + "]"; }
};

// The descriptors at the children's known numbers: a Unix datagram socket
// pair, the file and the pipe's read end. False if one failed.
bool set_up_child(const Files& f) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0) return false;
    return dup2(sv[0], send_sock) == send_sock && dup2(sv[1], recv_sock) == recv_sock &&
           dup2(f.file, file_fd) == file_fd && dup2(f.pipe_ends[0], pipe_fd) == pipe_fd;
}

} // namespace

TEST_CASE("sofdsnoop shows descriptors sent and received over a Unix socket, with their files",
          "[sofdsnoop]") {
    REQUIRE_BPF();
    Files f;
    int report[2];
    REQUIRE(pipe(report) == 0);
    std::string comm = unique_comm("sofd-a");
    std::string other_comm = unique_comm("sofd-b");
    // A: both descriptors there and back; ten copies of the file, received
    // with room for two (MSG_CTRUNC); a closed descriptor (EBADF); a message
    // without descriptors, which is no event. It reports what it received.
    GatedChild a(
        [&] {
            if (!set_up_child(f)) return 1;
            if (send_fds({file_fd, pipe_fd}) != 1) return 2;
            std::vector<int> got = receive_fds(2);
            if (got.size() != 2) return 3;
            if (send_fds(std::vector<int>(10, file_fd)) != 1) return 4;
            std::vector<int> cut = receive_fds(2);
            if (cut.size() != 2) return 5;
            if (send_fds({}) != 1 || !receive_fds(0).empty()) return 6;
            if (send_fds({closed_fd}) != -EBADF) return 7;
            got.insert(got.end(), cut.begin(), cut.end());
            return write(report[1], got.data(), got.size() * sizeof(int)) ==
                           static_cast<ssize_t>(got.size() * sizeof(int))
                       ? 0
                       : 8;
        },
        comm.c_str());
    // B: one send, on the other side of -p.
    GatedChild b([&] { return set_up_child(f) && send_fds({file_fd}) == 1 ? 0 : 1; },
                 other_comm.c_str());
    std::string pid = std::to_string(a.pid());
    ToolProcess text({tool_path("sofdsnoop"), "-n", comm});
    ToolProcess all({tool_path("sofdsnoop"), "-o", "json"});
    ToolProcess by_pid({tool_path("sofdsnoop"), "-o", "json", "-p", pid});
    ToolProcess failed({tool_path("sofdsnoop"), "-x", "-o", "json", "-p", pid});
    REQUIRE(text.wait_attached());
    REQUIRE(all.wait_attached());
    REQUIRE(by_pid.wait_attached());
    REQUIRE(failed.wait_attached());
    REQUIRE(b.run() == 0);
    REQUIRE(a.run() == 0);
    int received[4];
    REQUIRE(read(report[0], received, sizeof received) == sizeof received);
    close(report[0]);
    close(report[1]);
    // The failed send is A's last: once each shows it, each has all.
    for (ToolProcess* t : {&all, &by_pid, &failed})
        REQUIRE(t->wait_for_output("\"fds\":[999]"));
    REQUIRE(text.wait_for_output(" 999 "));
    Finished t = text.stop();
    Finished j = all.stop();
    Finished p = by_pid.stop();
    Finished x = failed.stop();
    CHECK(t.exit_code == 0);
    CHECK(j.exit_code == 0);
    CHECK(p.exit_code == 0);
    CHECK(x.exit_code == 0);

    std::vector<json> mine, others;
    for (const json& e : json_lines(j.out)) {
        if (e.at("comm") == comm) mine.push_back(e);
        if (e.at("comm") == other_comm) others.push_back(e);
    }
    REQUIRE(mine.size() == 5);
    REQUIRE(others.size() == 1);
    CHECK(others[0].at("pid") == b.pid());
    CHECK(others[0].at("fds") == json::array({file_fd}));
    CHECK(others[0].at("names") == json::array({f.name}));
    for (const json& e : mine) {
        CHECK(e.at("pid") == a.pid());
        CHECK(e.at("tid") == a.pid());
    }
    // Both descriptors, in the sender's numbers, then the receiver's.
    CHECK(mine[0].at("action") == "send");
    CHECK(mine[0].at("sock_fd") == send_sock);
    CHECK(mine[0].at("errno") == 0);
    CHECK(mine[0].at("ret") == 1);
    CHECK(mine[0].at("fd_count") == 2);
    CHECK(mine[0].at("truncated") == false);
    CHECK(mine[0].at("fds") == json::array({file_fd, pipe_fd}));
    CHECK(mine[0].at("names") == json::array({f.name, f.pipe_name()}));
    CHECK(mine[1].at("action") == "recv");
    CHECK(mine[1].at("sock_fd") == recv_sock);
    CHECK(mine[1].at("ret") == 1);
    CHECK(mine[1].at("fds") == json::array({received[0], received[1]}));
    CHECK(mine[1].at("names") == json::array({f.name, f.pipe_name()}));
    // Ten sent, eight listed; two received, the rest closed by the kernel.
    CHECK(mine[2].at("action") == "send");
    CHECK(mine[2].at("fd_count") == 10);
    CHECK(mine[2].at("fds") == json(std::vector<int>(8, file_fd)));
    CHECK(mine[3].at("action") == "recv");
    CHECK(mine[3].at("fd_count") == 2);
    CHECK(mine[3].at("truncated") == true);
    CHECK(mine[3].at("fds") == json::array({received[2], received[3]}));
    // The closed descriptor: EBADF, no file.
    CHECK(mine[4].at("action") == "send");
    CHECK(mine[4].at("errno") == EBADF);
    CHECK(mine[4].at("ret") == -EBADF);
    CHECK(mine[4].at("fds") == json::array({closed_fd}));
    CHECK(mine[4].at("names") == json::array({nullptr}));

    // -p: A's five and not B's.
    std::vector<json> by_pid_records = json_lines(p.out);
    CHECK(by_pid_records.size() == 5);
    for (const json& e : by_pid_records)
        CHECK(e.at("pid") == a.pid());
    // -x: only the failed send.
    std::vector<json> failed_records = json_lines(x.out);
    REQUIRE(failed_records.size() == 1);
    CHECK(failed_records[0].at("errno") == EBADF);

    // Text: -n keeps A's five lines; the header; the columns of each.
    CHECK(lines(t.out)[0].find("PID     TID     COMM             ACTION SOCK ERR FDS") == 0);
    auto rows = lines_containing(t.out, comm);
    REQUIRE(rows.size() == 5);
    CHECK(lines_containing(t.out, other_comm).empty());
    std::vector<std::string> first = fields(rows[0]);
    CHECK(first == std::vector<std::string>{pid, pid, comm, "send", "100", "0", "102,103", f.name,
                                            f.pipe_name()});
    std::vector<std::string> many = fields(rows[2]);
    REQUIRE(many.size() >= 7);
    CHECK(many[6] == "102,102,102,102,102,102,102,102,...");
    std::vector<std::string> bad = fields(rows[4]);
    CHECK(bad == std::vector<std::string>{pid, pid, comm, "send", "100", "9", "999", "-"});
}

TEST_CASE("sofdsnoop escapes a hostile file name in text and keeps it exact in JSON",
          "[sofdsnoop]") {
    REQUIRE_BPF();
    Files f;
    // ESC, a newline and an invalid byte in the passed file's name.
    std::string hostile = "\x1b[2J\nevil\xff";
    std::string path = f.dir + "/" + hostile;
    int fd = open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    GatedChild child(
        [&] {
            if (!set_up_child(f) || dup2(fd, file_fd) != file_fd) return 1;
            return send_fds({file_fd}) == 1 && receive_fds(1).size() == 1 ? 0 : 2;
        },
        unique_comm("sofd-h").c_str());
    std::string pid = std::to_string(child.pid());
    ToolProcess text({tool_path("sofdsnoop"), "-p", pid});
    ToolProcess jsonl({tool_path("sofdsnoop"), "-o", "json", "-p", pid});
    REQUIRE(text.wait_attached());
    REQUIRE(jsonl.wait_attached());
    REQUIRE(child.run() == 0);
    REQUIRE(jsonl.wait_for_output("\"action\":\"recv\""));
    REQUIRE(text.wait_for_output(" recv "));
    Finished t = text.stop();
    Finished j = jsonl.stop();
    close(fd);
    unlink(path.c_str());
    std::vector<json> records = json_lines(j.out);
    REQUIRE(records.size() == 2);
    for (const json& e : records)
        CHECK(e.at("names") == json::array({"\x1b[2J\nevil\xef\xbf\xbd"}));
    auto rows = lines_containing(t.out, " 102 ");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].find("\\e[2J\\nevil\\xff") != std::string::npos);
    CHECK(lines(t.out).size() == 3); // the header and two lines: the newline was escaped
}

} // namespace test_sofdsnoop
