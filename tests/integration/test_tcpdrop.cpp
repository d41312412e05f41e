// tcpdrop against drops this test makes in a network namespace of its own:
// SYNs an nftables rule drops on their way out (NETFILTER_DROP; the socket
// is the connecting child's, so its owner is known), SYNs to a port nothing
// listens on (NO_SOCKET; no socket, so no owner), and, for --all, a UDP
// datagram to a closed port. Each workload makes a known number of each.
// -f and -o svg count the same drops by reason and stack (the SVG read with
// tests/common/svg_reader.h).
#include "harness.h"

#include "svg_reader.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <fcntl.h>
#include <map>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

namespace test_tcpdrop {

using namespace itest;
using nlohmann::json;

namespace {

constexpr int filtered_syns = 3; // to DropDropPorts::filtered, dropped by nftables
constexpr int refused_syns = 2;  // to DropPorts::closed over IPv6, nothing listening

struct DropPorts {
    uint16_t filtered, closed, other, udp;
};

// DropPorts of this run: nothing else runs in the namespace, but tools in the
// root namespace see every namespace's drops.
DropPorts pick_ports() {
    uint16_t base = static_cast<uint16_t>(20000 + (getpid() % 4000) * 10);
    return {base, static_cast<uint16_t>(base + 1), static_cast<uint16_t>(base + 2),
            static_cast<uint16_t>(base + 3)};
}

// The namespace with an nftables rule that drops TCP to ports.filtered on
// the way out (the table goes with the namespace).
bool add_drop_rule(const NetNamespace& ns, const DropPorts& ports) {
    return ns.exec("nft add table inet cs_tcpdrop") &&
           ns.exec("nft add chain inet cs_tcpdrop out '{ type filter hook output priority 0; }'") &&
           ns.exec("nft add rule inet cs_tcpdrop out tcp dport " + std::to_string(ports.filtered) +
                   " drop");
}

// In the namespace: filtered_syns non-blocking connects to 127.0.0.1 on the
// filtered port, each closed at once (so its SYN is never sent again);
// refused_syns connects to [::1] on the closed port; one to 127.0.0.1 on the
// other port; a UDP datagram to [::1] on the udp port. Returns 0 when all
// went as planned.
int drop_workload(const NetNamespace& ns, const DropPorts& ports) {
    if (!ns.enter()) return 1;
    for (int i = 0; i < filtered_syns; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(ports.filtered);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 || errno != EINPROGRESS)
            return 2;
        close(fd);
    }
    auto refused = [](int family, uint16_t port) {
        int fd = socket(family, SOCK_STREAM, 0);
        sockaddr_storage a{};
        socklen_t len;
        if (family == AF_INET6) {
            auto* a6 = reinterpret_cast<sockaddr_in6*>(&a);
            a6->sin6_family = AF_INET6;
            a6->sin6_port = htons(port);
            a6->sin6_addr = in6addr_loopback;
            len = sizeof *a6;
        } else {
            auto* a4 = reinterpret_cast<sockaddr_in*>(&a);
            a4->sin_family = AF_INET;
            a4->sin_port = htons(port);
            a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            len = sizeof *a4;
        }
        bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 && errno == ECONNREFUSED;
        close(fd);
        return ok;
    };
    for (int i = 0; i < refused_syns; i++)
        if (!refused(AF_INET6, ports.closed)) return 3;
    if (!refused(AF_INET, ports.other)) return 4;
    int u = socket(AF_INET6, SOCK_DGRAM, 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(ports.udp);
    a.sin6_addr = in6addr_loopback;
    if (sendto(u, "x", 1, 0, reinterpret_cast<sockaddr*>(&a), sizeof a) != 1) return 5;
    close(u);
    return 0;
}

std::string port_list(std::initializer_list<uint16_t> ports) {
    std::string out;
    for (uint16_t p : ports)
        out += (out.empty() ? "" : ",") + std::to_string(p);
    return out;
}

// A text record: its columns and the stack frames below it.
struct TextDrop {
    std::vector<std::string> columns;
    std::vector<std::string> frames;
};

std::vector<TextDrop> text_drops(const std::string& out) {
    std::vector<TextDrop> drops;
    bool header = true;
    for (const std::string& line : lines(out)) {
        if (header) { // the first line
            header = false;
            continue;
        }
        if (line.empty()) continue;
        if (line.starts_with("    ")) {
            if (!drops.empty()) drops.back().frames.push_back(line.substr(4));
            continue;
        }
        drops.push_back({fields(line), {}});
    }
    return drops;
}

bool has_frame(const std::vector<std::string>& frames, const std::string& name) {
    for (const std::string& f : frames)
        if (f == name) return true;
    return false;
}

bool json_has_frame(const json& stack, const std::string& name) {
    for (const json& f : stack)
        if (f.at("symbol") == name) return true;
    return false;
}

// A frame of the flame graph: name, kind (p: the root, the drop reason; k:
// kernel), count, where it starts, its depth and width.
struct DropFrame {
    std::string name, kind;
    uint64_t start = 0, count = 0;
    size_t depth = 0;
    double width = 0;
};

std::vector<DropFrame> flame_frames(const std::string& svg) {
    svgreader::Result read = svgreader::read(svg);
    INFO(read.error << "\n" << svg.substr(0, 2000));
    REQUIRE(read.root);
    std::vector<DropFrame> frames;
    for (const svgreader::Element* g : read.root->all("g")) {
        std::string cls = g->attribute("class");
        if (!cls.starts_with("f ")) continue;
        std::string title = g->child("title")->text;
        frames.push_back({title.substr(0, title.rfind(" (")), cls.substr(2),
                          std::stoull(g->attribute("data-s")), std::stoull(g->attribute("data-c")),
                          std::stoul(g->attribute("data-d")),
                          std::stod(g->child("rect")->attribute("width"))});
        CHECK(title.find(" drops, ") != std::string::npos); // the unit in every tooltip
    }
    return frames;
}

// The frames named name above the frame below (by start and count).
uint64_t count_above(const std::vector<DropFrame>& frames, const DropFrame& below,
                     const std::string& name) {
    uint64_t count = 0;
    for (const DropFrame& f : frames)
        if (f.name == name && f.depth > below.depth && f.start >= below.start &&
            f.start + f.count <= below.start + below.count)
            count += f.count;
    return count;
}

} // namespace

TEST_CASE("tcpdrop reports dropped SYNs with reason, owner, state, flags and stack; -f and -o "
          "svg count them by reason and stack",
          "[tcpdrop]") {
    REQUIRE_BPF();
    REQUIRE_NETNS_TOOLS();
    NetNamespace ns("cs-tcpdrop");
    REQUIRE(ns.ok());
    DropPorts ports = pick_ports();
    REQUIRE(add_drop_rule(ns, ports));
    GatedChild child([&] { return drop_workload(ns, ports); }, "cs-dropper");
    std::string pid = std::to_string(child.pid());
    std::string wanted = port_list({ports.filtered, ports.closed, ports.udp});
    ToolProcess text({tool_path("tcpdrop"), "-P", wanted});
    ToolProcess jsonl({tool_path("tcpdrop"), "-o", "json", "-P", wanted});
    ToolProcess by_pid({tool_path("tcpdrop"), "-o", "json", "--no-stack", "-p", pid, "-P", wanted});
    ToolProcess all6({tool_path("tcpdrop"), "-o", "json", "--all", "-6", "-P", wanted});
    ToolProcess svg({tool_path("tcpdrop"), "-o", "svg", "-P", wanted});
    ToolProcess folded({tool_path("tcpdrop"), "-f", "-P", wanted});
    for (ToolProcess* tool : {&text, &jsonl, &by_pid, &all6, &svg, &folded})
        REQUIRE(tool->wait_attached());
    REQUIRE(child.run() == 0);
    std::string udp = "\"dport\":" + std::to_string(ports.udp);
    REQUIRE(all6.wait_for_output(udp));
    REQUIRE(jsonl.wait_for_output("\"dport\":" + std::to_string(ports.closed)));
    REQUIRE(by_pid.wait_for_output("\"dport\":" + std::to_string(ports.filtered)));
    Finished t = text.stop();
    Finished j = jsonl.stop();
    Finished p = by_pid.stop();
    Finished a = all6.stop();
    // Every drop happened inside the child's connect() calls, and a tool
    // that stops reads what its buffer holds first.
    Finished g = svg.stop();
    Finished fo = folded.stop();
    for (const Finished* f : {&t, &j, &p, &a, &g, &fo}) {
        CHECK(f->exit_code == 0);
        CHECK(f->out.find(":" + std::to_string(ports.other)) == std::string::npos); // -P
        CHECK(f->out.find("\"dport\":" + std::to_string(ports.other)) == std::string::npos);
    }

    // Text: the classic columns, each drop followed by its kernel stack.
    CHECK(lines(t.out)[0] == "TIME     PID     COMM             IP SADDR:SPORT           > "
                             "DADDR:DPORT           STATE       (FLAGS)   REASON");
    int filtered = 0, refused = 0;
    for (const TextDrop& d : text_drops(t.out)) {
        INFO(t.out);
        REQUIRE(d.columns.size() == 10);
        CHECK(d.columns[0].size() == 8); // HH:MM:SS
        CHECK(d.columns[5] == ">");
        CHECK(d.columns[8] == "(SYN)");
        if (d.columns[6] == "127.0.0.1:" + std::to_string(ports.filtered)) {
            filtered++;
            CHECK(d.columns[1] == pid);
            CHECK(d.columns[2] == "cs-dropper");
            CHECK(d.columns[3] == "4");
            CHECK(d.columns[4].starts_with("127.0.0.1:"));
            CHECK(d.columns[7] == "SYN_SENT");
            CHECK(d.columns[9] == "NETFILTER_DROP");
            CHECK(has_frame(d.frames, "nf_hook_slow"));
            CHECK(has_frame(d.frames, "__sys_connect"));
        } else if (d.columns[6] == "[::1]:" + std::to_string(ports.closed)) {
            refused++;
            // No socket took the SYN: no owner, never the softirq's task.
            CHECK(d.columns[1] == "-");
            CHECK(d.columns[2] == "-");
            CHECK(d.columns[3] == "6");
            CHECK(d.columns[7] == "-");
            CHECK(d.columns[9] == "NO_SOCKET");
            CHECK(has_frame(d.frames, "tcp_v6_rcv"));
        } else {
            FAIL("a drop the workload did not make: " << d.columns[6]);
        }
        // The stack starts at the function that freed the packet, not in
        // the tracepoint or the BPF program.
        REQUIRE(!d.frames.empty());
        CHECK(d.frames[0].find("bpf") == std::string::npos);
        CHECK(d.frames[0].find("trace") == std::string::npos);
    }
    CHECK(filtered == filtered_syns);
    CHECK(refused == refused_syns);

    // JSON: the same drops, the owner null where unknown, the stack as
    // frames.
    filtered = refused = 0;
    for (const std::string& line : lines(j.out)) {
        json e = json::parse(line);
        CHECK(e.at("tcp_flags") == "SYN");
        CHECK(e.at("addresses_from") == "packet");
        CHECK(e.at("reason_code").is_number());
        CHECK(e.at("kernel_stack").size() > 3);
        if (e.at("dport") == ports.filtered) {
            filtered++;
            CHECK(e.at("pid") == child.pid());
            CHECK(e.at("tid") == child.pid());
            CHECK(e.at("uid") == getuid());
            CHECK(e.at("comm") == "cs-dropper");
            CHECK(e.at("ip") == 4);
            CHECK(e.at("saddr") == "127.0.0.1");
            CHECK(e.at("daddr") == "127.0.0.1");
            CHECK(e.at("state") == "SYN_SENT");
            CHECK(e.at("reason") == "NETFILTER_DROP");
            CHECK(json_has_frame(e.at("kernel_stack"), "nf_hook_slow"));
        } else if (e.at("dport") == ports.closed) {
            refused++;
            CHECK(e.at("pid").is_null());
            CHECK(e.at("comm").is_null());
            CHECK(e.at("ip") == 6);
            CHECK(e.at("saddr") == "::1");
            CHECK(e.at("state").is_null());
            CHECK(e.at("reason") == "NO_SOCKET");
        } else {
            FAIL("a drop the workload did not make: " << line);
        }
    }
    CHECK(filtered == filtered_syns);
    CHECK(refused == refused_syns);

    // -p: only the drops whose socket the child owned; unknown owners out.
    int by_owner = 0;
    for (const std::string& line : lines(p.out)) {
        json e = json::parse(line);
        by_owner++;
        CHECK(e.at("dport") == ports.filtered);
        CHECK(e.at("pid") == child.pid());
        CHECK(e.count("kernel_stack") == 0); // --no-stack
    }
    CHECK(by_owner == filtered_syns);

    // --all -6: the IPv6 drops, TCP and UDP; none of the IPv4 ones.
    int tcp6 = 0, udp6 = 0;
    for (const std::string& line : lines(a.out)) {
        json e = json::parse(line);
        CHECK(e.at("ip") == 6);
        CHECK(e.at("reason") == "NO_SOCKET");
        if (e.at("protocol") == "TCP") tcp6++;
        if (e.at("protocol") == "UDP") {
            udp6++;
            CHECK(e.at("dport") == ports.udp);
            CHECK(e.at("tcp_flags").is_null());
        }
    }
    CHECK(tcp6 == refused_syns);
    CHECK(udp6 == 1);

    // -o svg: titled with the command line; each drop reason a root frame
    // (coloured apart) as wide as its drops, its kernel stacks above it,
    // outermost first, up to the function that freed the packet.
    std::vector<DropFrame> frames = flame_frames(g.out);
    CHECK(g.out.find("<title>tcpdrop -o svg -P " + wanted + "</title>") != std::string::npos);
    std::map<std::string, const DropFrame*> roots;
    const DropFrame* all = nullptr;
    for (const DropFrame& f : frames) {
        INFO(f.name);
        if (f.depth == 0) all = &f;
        if (f.depth != 1) continue;
        CHECK(f.kind == "p");
        roots[f.name] = &f;
        CHECK(f.name.find("bpf") == std::string::npos);
    }
    REQUIRE(all);
    CHECK(all->count == filtered_syns + refused_syns);
    REQUIRE(roots.size() == 2);
    REQUIRE(roots.count("NETFILTER_DROP"));
    REQUIRE(roots.count("NO_SOCKET"));
    const DropFrame& nf = *roots["NETFILTER_DROP"];
    CHECK(nf.count == filtered_syns);
    CHECK(roots["NO_SOCKET"]->count == refused_syns);
    // Widths are shares of the whole, within a pixel.
    CHECK(std::abs(nf.width - all->width * filtered_syns / (filtered_syns + refused_syns)) < 1);
    CHECK(count_above(frames, nf, "nf_hook_slow") == filtered_syns);
    CHECK(count_above(frames, nf, "__sys_connect") == filtered_syns);
    CHECK(count_above(frames, *roots["NO_SOCKET"], "tcp_v6_rcv") == refused_syns);
    for (const DropFrame& f : frames) {
        INFO(f.name);
        if (f.depth > 1) CHECK((f.kind == "k" || f.name == "[unknown]"));
        CHECK(f.name.find("bpf_trace") == std::string::npos); // the probe's own frames go
    }

    // -f: the same counts as folded lines, the most first, no header.
    std::map<std::string, uint64_t> by_root;
    uint64_t last = ~0ull;
    for (const std::string& line : lines(fo.out)) {
        INFO(line);
        size_t space = line.rfind(' ');
        REQUIRE(space != std::string::npos);
        uint64_t count = std::stoull(line.substr(space + 1));
        CHECK(count <= last);
        last = count;
        std::string root = line.substr(0, line.find(';'));
        by_root[root] += count;
        if (root == "NETFILTER_DROP") CHECK(line.find(";nf_hook_slow_[k]") != std::string::npos);
    }
    CHECK(by_root == std::map<std::string, uint64_t>{{"NETFILTER_DROP", filtered_syns},
                                                     {"NO_SOCKET", refused_syns}});
}

TEST_CASE("tcpdrop reports the same drops through each of its tiers", "[tcpdrop]") {
    REQUIRE_BPF();
    REQUIRE_NETNS_TOOLS();
    NetNamespace ns("cs-tcpdrop");
    REQUIRE(ns.ok());
    DropPorts ports = pick_ports();
    REQUIRE(add_drop_rule(ns, ports));
    std::string wanted = port_list({ports.filtered, ports.closed});
    ToolProcess raw({tool_path("tcpdrop"), "-v", "-o", "json", "-P", wanted},
                    ToolProcess::Stdout::pipe,
                    [] { setenv("CORESCOPE_SKIP_ATTACH", "tp_btf", 1); });
    ToolProcess tp({tool_path("tcpdrop"), "-v", "--no-stack", "-P", wanted},
                   ToolProcess::Stdout::pipe,
                   [] { setenv("CORESCOPE_SKIP_ATTACH", "tp_btf,raw_tp", 1); });
    REQUIRE(raw.wait_attached());
    REQUIRE(tp.wait_attached());
    GatedChild child([&] { return drop_workload(ns, ports); }, "cs-dropper");
    REQUIRE(child.run() == 0);
    REQUIRE(raw.wait_for_output("\"dport\":" + std::to_string(ports.closed)));
    REQUIRE(tp.wait_for_output("NO_SOCKET"));
    Finished r = raw.stop();
    Finished t = tp.stop();
    CHECK(r.exit_code == 0);
    CHECK(t.exit_code == 0);
    CHECK(r.err.find("dropped packets: raw_tp:kfree_skb") != std::string::npos);
    CHECK(t.err.find("dropped packets: tracepoint:skb:kfree_skb") != std::string::npos);
    CHECK(t.err.find("socket owners (connect, listen): tracepoint:sock:inet_sock_set_state") !=
          std::string::npos);

    int filtered = 0, refused = 0;
    for (const std::string& line : lines(r.out)) {
        json e = json::parse(line);
        if (e.at("reason") == "NETFILTER_DROP") {
            filtered++;
            CHECK(e.at("pid") == child.pid());
            CHECK(e.at("state") == "SYN_SENT");
        } else if (e.at("reason") == "NO_SOCKET") {
            refused++;
            CHECK(e.at("pid").is_null());
        }
        CHECK(!e.at("kernel_stack").empty());
    }
    CHECK(filtered == filtered_syns);
    CHECK(refused == refused_syns);

    // --no-stack: one line a drop, after the header.
    auto text = lines(t.out);
    REQUIRE(text.size() == 1 + filtered_syns + refused_syns);
    int text_filtered = 0;
    for (size_t i = 1; i < text.size(); i++) {
        auto f = fields(text[i]);
        REQUIRE(f.size() == 10);
        if (f[9] == "NETFILTER_DROP") {
            text_filtered++;
            CHECK(f[1] == std::to_string(child.pid()));
            CHECK(f[2] == "cs-dropper");
        } else {
            CHECK(f[9] == "NO_SOCKET");
            CHECK(f[1] == "-");
        }
    }
    CHECK(text_filtered == filtered_syns);
}

} // namespace test_tcpdrop
