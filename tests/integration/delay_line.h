// Two network namespaces of the test's own joined by a link with a fixed
// delay each way, for tests that need a round-trip time they know (this
// machine has no sch_netem): a tun device in each namespace, and a thread
// of the test that reads each packet from one device and writes it to the
// other once its delay has passed. Addresses: near (10.157.63.1) in
// near(), far (10.157.63.2) in far(). Everything goes with the object:
// the thread stops, closing the devices removes them, the namespaces are
// deleted.
#pragma once

#include "harness.h"

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <string>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace itest {

class DelayLine {
  public:
    static constexpr const char* near_addr = "10.157.63.1";
    static constexpr const char* far_addr = "10.157.63.2";

    // delay_ms each way: a round trip takes twice that, and a little more.
    DelayLine(const std::string& prefix, int delay_ms)
        : near_(prefix + "-a"), far_(prefix + "-b"), delay_(std::chrono::milliseconds(delay_ms)) {
        if (!near_.ok() || !far_.ok()) return;
        stop_fd_ = eventfd(0, EFD_CLOEXEC);
        if (stop_fd_ < 0) return;
        std::atomic<int> state{0}; // 1: devices made, -1: failed
        thread_ = std::thread([this, &state] {
            fds_[0] = open_tun(near_);
            fds_[1] = open_tun(far_);
            state = fds_[0] >= 0 && fds_[1] >= 0 ? 1 : -1;
            if (state == 1) forward();
        });
        while (state == 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        ok_ = state == 1 && configure(near_, near_addr) && configure(far_, far_addr);
    }

    ~DelayLine() {
        if (thread_.joinable()) {
            uint64_t one = 1;
            if (write(stop_fd_, &one, sizeof one) != sizeof one) {
            }
            thread_.join();
        }
        for (int fd : fds_)
            if (fd >= 0) close(fd);
        if (stop_fd_ >= 0) close(stop_fd_);
    }
    DelayLine(const DelayLine&) = delete;
    DelayLine& operator=(const DelayLine&) = delete;

    bool ok() const { return ok_; }
    const NetNamespace& near() const { return near_; }
    const NetNamespace& far() const { return far_; }

    // An IPv4 address of the link and a port, for bind() and connect().
    static sockaddr_in address(const char* addr, uint16_t port) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        inet_pton(AF_INET, addr, &a.sin_addr);
        return a;
    }

  private:
    static constexpr const char* device = "csdelay0";

    // On this thread: enter ns and make the device there.
    static int open_tun(const NetNamespace& ns) {
        if (!ns.enter()) return -1;
        int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) return -1;
        ifreq ifr{};
        ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
        std::strncpy(ifr.ifr_name, device, IFNAMSIZ - 1);
        if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
            close(fd);
            return -1;
        }
        return fd;
    }

    static bool configure(const NetNamespace& ns, const char* addr) {
        return ns.exec(std::string("ip addr add ") + addr + "/24 dev " + device) &&
               ns.exec(std::string("ip link set ") + device + " up");
    }

    struct Packet {
        std::chrono::steady_clock::time_point due;
        int to; // index into fds_
        std::vector<char> bytes;
    };

    void forward() {
        std::deque<Packet> queue; // in order of due time: one delay for all
        char buf[65536];
        for (;;) {
            int timeout = -1;
            auto now = std::chrono::steady_clock::now();
            while (!queue.empty() && queue.front().due <= now) {
                const Packet& p = queue.front();
                if (write(fds_[p.to], p.bytes.data(), p.bytes.size()) < 0) {
                } // a full device drops it, as a link would
                queue.pop_front();
            }
            if (!queue.empty())
                timeout = static_cast<int>(
                    std::chrono::ceil<std::chrono::milliseconds>(queue.front().due - now).count());
            pollfd p[3] = {{fds_[0], POLLIN, 0}, {fds_[1], POLLIN, 0}, {stop_fd_, POLLIN, 0}};
            if (poll(p, 3, timeout) < 0) continue;
            if (p[2].revents) return;
            for (int i = 0; i < 2; i++) {
                if (!(p[i].revents & POLLIN)) continue;
                for (;;) {
                    ssize_t n = read(fds_[i], buf, sizeof buf);
                    if (n <= 0) break;
                    queue.push_back({std::chrono::steady_clock::now() + delay_, 1 - i,
                                     std::vector<char>(buf, buf + n)});
                }
            }
        }
    }

    NetNamespace near_;
    NetNamespace far_;
    std::chrono::milliseconds delay_;
    int fds_[2] = {-1, -1};
    int stop_fd_ = -1;
    std::thread thread_;
    bool ok_ = false;
};

} // namespace itest
