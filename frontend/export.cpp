// corescope export: the chosen collectors' BPF programs loaded once, their
// maps read at each scrape of GET /metrics (common/export_collector.h), on
// a small single-threaded HTTP server of its own (why: docs/architecture.md,
// "corescope export").
#include "export.h"

#include "cli.h"
#include "export_collector.h"
#include "exposition.h"
#include "fd.h"
#include "http_request.h"
#include "kernel_features.h"
#include "tool.h"
#include "version.h"
#include "web_config.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <list>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <set>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>
#include <zlib.h>

namespace corescope {

namespace tools {
std::unique_ptr<ExportCollector> export_runqlat(const CommonOptions& options);
std::unique_ptr<ExportCollector> export_biolatency(const CommonOptions& options);
std::unique_ptr<ExportCollector> export_execsnoop(const CommonOptions& options);
std::unique_ptr<ExportCollector> export_oomkill(const CommonOptions& options);
std::unique_ptr<ExportCollector> export_tcpretrans(const CommonOptions& options);
std::unique_ptr<ExportCollector> export_tcpdrop(const CommonOptions& options);
std::unique_ptr<ExportCollector> export_opensnoop(const CommonOptions& options);
std::unique_ptr<ExportCollector> export_syscount(const CommonOptions& options);
} // namespace tools

namespace {

// The port: ebpf_exporter's 9435 plus 10000. Prometheus' list of exporter
// ports (9100-9999) is full, and a host may run ebpf_exporter beside us.
constexpr const char* default_listen_address = "127.0.0.1:19435";
constexpr size_t max_head_bytes = 8192;
constexpr double connection_timeout_s = 10;

struct CollectorEntry {
    const char* name;
    const char* what;
    std::unique_ptr<ExportCollector> (*make)(const CommonOptions&);
    bool by_default = true; // false: only when --collectors names it
};

// The collectors built into this corescope (meson.build: export_collectors,
// those among -Dtools); those that run on every system call or every open
// only when asked for.
const std::vector<CollectorEntry>& all_collectors() {
    static const std::vector<CollectorEntry> all = {
#if CORESCOPE_EXPORT_RUNQLAT
        {"runqlat", "run-queue latency histogram", tools::export_runqlat},
#endif
#if CORESCOPE_EXPORT_BIOLATENCY
        {"biolatency", "block I/O latency histograms by device and operation",
         tools::export_biolatency},
#endif
#if CORESCOPE_EXPORT_EXECSNOOP
        {"execsnoop", "exec calls and failed exec calls", tools::export_execsnoop},
#endif
#if CORESCOPE_EXPORT_OOMKILL
        {"oomkill", "OOM kills by constraint", tools::export_oomkill},
#endif
#if CORESCOPE_EXPORT_TCPRETRANS
        {"tcpretrans", "TCP retransmissions and tail loss probes", tools::export_tcpretrans},
#endif
#if CORESCOPE_EXPORT_TCPDROP
        {"tcpdrop", "dropped TCP packets by drop reason", tools::export_tcpdrop},
#endif
#if CORESCOPE_EXPORT_OPENSNOOP
        {"opensnoop", "open calls and failed open calls by errno", tools::export_opensnoop, false},
#endif
#if CORESCOPE_EXPORT_SYSCOUNT
        {"syscount", "system calls by name, with their time", tools::export_syscount, false},
#endif
    };
    return all;
}

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

struct Settings {
    std::string listen_address = default_listen_address;
    std::vector<std::string> collectors;
    uint64_t max_series = 500;
    uint64_t max_connections = 16;
    bool bpf_stats = false;
    std::string web_config_file;
};

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        size_t comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        if (!item.empty()) out.emplace_back(item);
        text.remove_prefix(comma == std::string_view::npos ? text.size() : comma + 1);
    }
    return out;
}

// HOST:PORT with a numeric host (127.0.0.1, [::1]) or localhost, or :PORT
// (every address, IPv4 and IPv6). No name lookup: getaddrinfo would need
// glibc's NSS modules at run time, which the static binary cannot load.
FileDescriptor listen_on(const std::string& address) {
    auto bad = [&](const std::string& why) {
        return UsageError("--web.listen-address '" + address + "': " + why);
    };
    size_t colon = address.rfind(':');
    if (colon == std::string::npos) throw bad("not HOST:PORT");
    std::string host = address.substr(0, colon);
    std::string port_text = address.substr(colon + 1);
    unsigned long port = 0;
    if (port_text.empty() || port_text.size() > 5 ||
        port_text.find_first_not_of("0123456789") != std::string::npos ||
        (port = std::stoul(port_text)) > 65535)
        throw bad("the port is not a number from 0 to 65535");
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host == "localhost") host = "127.0.0.1";
    sockaddr_storage storage{};
    socklen_t length = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (!host.empty() && inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<uint16_t>(port));
        length = sizeof *v4;
    } else if (host.empty() || inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6; // empty: in6addr_any, which takes IPv4 too
        v6->sin6_port = htons(static_cast<uint16_t>(port));
        length = sizeof *v6;
    } else {
        throw bad("not a numeric IPv4 or IPv6 address, nor localhost");
    }
    FileDescriptor fd(socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) throw RuntimeError(errno_message("cannot make a socket", errno));
    int one = 1, zero = 0;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (host.empty()) setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0 ||
        listen(fd.get(), 64) != 0)
        throw RuntimeError(errno_message("cannot listen on " + address, errno));
    return fd;
}

// gzip when the scraper accepts it (and has not refused it with q=0).
bool accepts_gzip(std::string_view accept_encoding) {
    while (!accept_encoding.empty()) {
        size_t comma = accept_encoding.find(',');
        std::string_view item = accept_encoding.substr(0, comma);
        accept_encoding.remove_prefix(comma == std::string_view::npos ? accept_encoding.size()
                                                                      : comma + 1);
        while (!item.empty() && item.front() == ' ')
            item.remove_prefix(1);
        std::string_view coding = item.substr(0, item.find(';'));
        while (!coding.empty() && coding.back() == ' ')
            coding.remove_suffix(1);
        if (coding != "gzip") continue;
        size_t q = item.find("q=");
        return q == std::string_view::npos ||
               item.substr(q + 2).find_first_not_of("0.") != std::string_view::npos;
    }
    return false;
}

bool gzip(const std::string& in, std::string& out) {
    z_stream z{};
    // 31: a gzip header and trailer around the deflate stream.
    if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
    out.resize(deflateBound(&z, in.size()) + 32);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    int rc = deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return rc == Z_STREAM_END;
}

struct Response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::string extra_headers;
    bool head_only = false;
};

const char* reason(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 431:
        return "Request Header Fields Too Large";
    default:
        return "Error";
    }
}

std::string serialize(const Response& r) {
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
    out += "Content-Type: " + r.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    out += r.extra_headers;
    out += "Connection: close\r\n\r\n";
    if (!r.head_only) out += r.body;
    return out;
}

Response error_response(int status) {
    Response r;
    r.status = status;
    r.body = std::string(reason(status)) + "\n";
    return r;
}

class Exporter {
  public:
    Exporter(std::vector<std::pair<std::string, std::unique_ptr<ExportCollector>>> collectors,
             size_t max_series)
        : collectors_(std::move(collectors)), max_series_(max_series) {}

    std::string scrape(ExpositionFormat format) {
        Exposition e(max_series_);
        for (auto& [name, collector] : collectors_) {
            double start = now_s();
            bool ok = collector != nullptr;
            try {
                if (collector) collector->collect(e);
            } catch (const std::exception& ex) {
                ok = false;
                if (warned_.insert(name).second)
                    warn("export: collector %s failed (said once): %s", name.c_str(), ex.what());
            }
            Labels labels{{"collector", name}};
            e.family("corescope_scrape_collector_success", MetricType::gauge,
                     "Whether the collector's maps were read at this scrape (1) or not (0).")
                .add(labels, ok ? 1 : 0);
            e.family("corescope_scrape_collector_duration_seconds", MetricType::gauge,
                     "How long reading the collector's maps took at this scrape.", "seconds")
                .add(labels, now_s() - start);
        }
        if (bpf_stats_on()) program_health(e);
        e.family("corescope_build_info", MetricType::gauge,
                 "corescope's version and the running kernel's release; always 1.")
            .add({{"version", corescope_version},
                  {"kernel", KernelFeatures::instance().kernel_release()}},
                 1);
        return e.render(format);
    }

    // basic_auth_users: name to bcrypt hash.
    void set_users(std::map<std::string, std::string> users) { users_ = std::move(users); }

    // With basic_auth_users, every request needs one of their passwords. A
    // bcrypt check costs tens of milliseconds by design: the last password
    // that matched each user is kept (in memory only), so a scraper's
    // repeated credentials cost one check, not one a scrape.
    bool authorized(const HttpRequest& request) {
        if (users_.empty()) return true;
        std::string user, password;
        if (!parse_basic_authorization(request.authorization, user, password)) return false;
        auto it = users_.find(user);
        if (it == users_.end()) return false;
        auto known = accepted_.find(user);
        if (known != accepted_.end() && known->second == password) return true;
        if (!bcrypt_matches(password, it->second)) return false;
        accepted_[user] = password;
        return true;
    }

    Response respond(const HttpRequest& request) {
        if (!authorized(request)) {
            Response r = error_response(401);
            r.extra_headers = "WWW-Authenticate: Basic\r\n";
            return r;
        }
        bool head = request.method == "HEAD";
        if (request.method != "GET" && !head) {
            Response r = error_response(405);
            r.extra_headers = "Allow: GET, HEAD\r\n";
            return r;
        }
        Response r;
        r.head_only = head;
        if (request.path == "/metrics") {
            ExpositionFormat format = format_from_accept(request.accept);
            r.content_type = exposition_content_type(format);
            r.body = scrape(format);
            std::string zipped;
            if (accepts_gzip(request.accept_encoding) && gzip(r.body, zipped)) {
                r.body = std::move(zipped);
                r.extra_headers = "Content-Encoding: gzip\r\n";
            }
            return r;
        }
        if (request.path == "/") {
            r.content_type = "text/html; charset=utf-8";
            r.body = "<html><head><title>corescope export</title></head><body>"
                     "<h1>corescope export</h1><p><a href=\"/metrics\">Metrics</a></p>"
                     "</body></html>\n";
            return r;
        }
        return error_response(404);
    }

    // --bpf-stats: the kernel's BPF statistics on while the exporter runs.
    void enable_bpf_stats() {
        int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
        if (fd < 0)
            throw RuntimeError(errno_message("--bpf-stats: cannot enable the BPF statistics", -fd));
        stats_fd_.reset(fd);
    }

  private:
    // The kernel counts each program's runs and their time only while its
    // BPF statistics are on (kernel.bpf_stats_enabled, or a process holding
    // them on, as --bpf-stats does); without, the counts would stand still.
    bool bpf_stats_on() const {
        if (stats_fd_.valid()) return true;
        char c = '0';
        FileDescriptor fd(open("/proc/sys/kernel/bpf_stats_enabled", O_RDONLY | O_CLOEXEC));
        return fd.valid() && read(fd.get(), &c, 1) == 1 && c != '0';
    }

    void program_health(Exposition& e) {
        MetricFamily& runs = e.family(
            "corescope_bpf_program_runs", MetricType::counter,
            "Runs of each BPF program of each collector, counted by the kernel while its BPF "
            "statistics are on (kernel.bpf_stats_enabled or --bpf-stats).");
        MetricFamily& time = e.family(
            "corescope_bpf_program_run_time_seconds", MetricType::counter,
            "CPU time in each BPF program of each collector, measured by the kernel while its BPF "
            "statistics are on (kernel.bpf_stats_enabled or --bpf-stats).",
            "seconds");
        for (auto& [name, collector] : collectors_) {
            if (!collector) continue;
            for (const auto& [program, fd] : collector->programs()) {
                bpf_prog_info info{};
                uint32_t length = sizeof info;
                if (bpf_obj_get_info_by_fd(fd, &info, &length) != 0) continue;
                Labels labels{{"collector", name}, {"program", program}};
                runs.add(labels, static_cast<double>(info.run_cnt));
                time.add(labels, static_cast<double>(info.run_time_ns) * 1e-9);
            }
        }
    }

    std::vector<std::pair<std::string, std::unique_ptr<ExportCollector>>> collectors_;
    size_t max_series_;
    FileDescriptor stats_fd_;
    std::map<std::string, std::string> users_;
    std::map<std::string, std::string> accepted_; // user: the password that last matched
    std::set<std::string> warned_;                // collectors whose failure was said
};

// TLS (--web.config.file's tls_server_config): one context, the
// certificate and key read at start.
struct SslContextFree {
    void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslContext = std::unique_ptr<SSL_CTX, SslContextFree>;
using Ssl = std::unique_ptr<SSL, SslFree>;

std::string ssl_errors() {
    std::string out;
    char buf[256];
    while (unsigned long e = ERR_get_error()) {
        ERR_error_string_n(e, buf, sizeof buf);
        out += std::string(out.empty() ? "" : "; ") + buf;
    }
    return out.empty() ? "unknown error" : out;
}

int tls_version_number(const std::string& name, int fallback) {
    if (name == "TLS10") return TLS1_VERSION;
    if (name == "TLS11") return TLS1_1_VERSION;
    if (name == "TLS12") return TLS1_2_VERSION;
    if (name == "TLS13") return TLS1_3_VERSION;
    return fallback;
}

SslContext make_ssl_context(const WebConfig& config) {
    SslContext ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) throw RuntimeError("TLS: " + ssl_errors());
    SSL_CTX_set_min_proto_version(ctx.get(),
                                  tls_version_number(config.min_version, TLS1_2_VERSION));
    SSL_CTX_set_max_proto_version(ctx.get(), tls_version_number(config.max_version, 0));
    SSL_CTX_set_mode(ctx.get(),
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), config.cert_file.c_str()) != 1)
        throw UsageError("--web.config.file: cert_file " + config.cert_file + ": " + ssl_errors());
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), config.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
        throw UsageError("--web.config.file: key_file " + config.key_file + ": " + ssl_errors());
    if (SSL_CTX_check_private_key(ctx.get()) != 1)
        throw UsageError("--web.config.file: key_file does not match cert_file: " + ssl_errors());
    return ctx;
}

struct Connection {
    FileDescriptor fd;
    double deadline;
    std::string in;
    std::string out; // the response, once there is one
    size_t written = 0;
    bool done = false;
    Ssl ssl;                 // with TLS
    bool want_write = false; // TLS: the last call waits to write (a handshake's reply)

    // Like recv() and send(): bytes, 0 at the end, -1 with errno (EAGAIN:
    // poll again, for want_write's direction).
    ssize_t receive(char* buf, size_t size) {
        if (!ssl) return recv(fd.get(), buf, size, 0);
        return tls_result(SSL_read(ssl.get(), buf, static_cast<int>(size)));
    }
    ssize_t transmit(const char* buf, size_t size) {
        if (!ssl) return send(fd.get(), buf, size, MSG_NOSIGNAL);
        return tls_result(SSL_write(ssl.get(), buf, static_cast<int>(size)));
    }
    // After the response: TLS's close_notify (best effort), then the
    // socket's FIN.
    void finish() {
        if (ssl) SSL_shutdown(ssl.get());
        shutdown(fd.get(), SHUT_WR);
    }
    short events() const {
        if (want_write) return POLLOUT;
        return static_cast<short>(out.empty() ? POLLIN : POLLOUT);
    }

  private:
    ssize_t tls_result(int n) {
        want_write = false;
        if (n > 0) return n;
        switch (SSL_get_error(ssl.get(), n)) {
        case SSL_ERROR_WANT_READ:
            errno = EAGAIN;
            return -1;
        case SSL_ERROR_WANT_WRITE:
            want_write = true;
            errno = EAGAIN;
            return -1;
        case SSL_ERROR_ZERO_RETURN:
            return 0;
        default:
            ERR_clear_error();
            errno = EPROTO;
            return -1;
        }
    }
};

// One thread, poll(): a client that sends nothing or too much holds one of
// max_connections slots for connection_timeout_s at most, and a new client
// past the limit takes the oldest one's slot, so none can stall a scrape.
// With TLS the handshake happens inside the first read, under the same
// deadline.
void serve(int listen_fd, Exporter& exporter, size_t max_connections, SSL_CTX* tls) {
    std::list<Connection> connections;
    std::vector<pollfd> fds;
    std::vector<Connection*> polled;
    while (!stop_requested()) {
        double now = now_s();
        fds.clear();
        polled.clear();
        fds.push_back({listen_fd, POLLIN, 0});
        double next_deadline = now + 1;
        for (Connection& c : connections) {
            fds.push_back({c.fd.get(), c.events(), 0});
            polled.push_back(&c);
            next_deadline = std::min(next_deadline, c.deadline);
        }
        int timeout_ms = static_cast<int>(std::max(0.0, next_deadline - now) * 1000) + 1;
        int n = poll(fds.data(), fds.size(), timeout_ms);
        if (n < 0 && errno != EINTR) throw RuntimeError(errno_message("poll", errno));
        now = now_s();
        for (size_t i = 0; n > 0 && i < polled.size(); i++) {
            Connection& c = *polled[i];
            short revents = fds[i + 1].revents;
            if (!revents) continue;
            if (c.out.empty()) {
                char buf[4096];
                size_t room = max_head_bytes + 1 - std::min(c.in.size(), max_head_bytes);
                ssize_t got = c.receive(buf, std::min(room, sizeof buf));
                if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
                    c.done = true;
                    continue;
                }
                if (got < 0) continue;
                c.in.append(buf, static_cast<size_t>(got));
                // TLS: the rest of a record already read from the socket
                // waits in OpenSSL, where poll() cannot see it.
                while (c.ssl && SSL_pending(c.ssl.get()) > 0 && c.in.size() <= max_head_bytes) {
                    ssize_t more =
                        c.receive(buf, std::min(max_head_bytes + 1 - c.in.size(), sizeof buf));
                    if (more <= 0) break;
                    c.in.append(buf, static_cast<size_t>(more));
                }
                HttpRequest request;
                switch (parse_http_request(c.in, max_head_bytes, request)) {
                case HttpParse::incomplete:
                    continue;
                case HttpParse::complete:
                    c.out = serialize(exporter.respond(request));
                    break;
                case HttpParse::bad:
                    c.out = serialize(error_response(400));
                    break;
                case HttpParse::too_large:
                    c.out = serialize(error_response(431));
                    break;
                }
                c.in.clear();
                c.in.shrink_to_fit();
            }
            while (c.written < c.out.size()) {
                ssize_t sent = c.transmit(c.out.data() + c.written, c.out.size() - c.written);
                if (sent <= 0) {
                    if (sent == 0 || (errno != EAGAIN && errno != EINTR)) c.done = true;
                    break;
                }
                c.written += static_cast<size_t>(sent);
            }
            if (c.written == c.out.size()) {
                c.finish();
                c.done = true;
            }
        }
        // Timed out: a 408 where nothing has been answered yet, best effort
        // (in plain HTTP only: a TLS connection may be mid-handshake).
        for (Connection& c : connections) {
            if (c.done || now < c.deadline) continue;
            if (c.out.empty() && !c.ssl) {
                std::string late = serialize(error_response(408));
                [[maybe_unused]] ssize_t ignored =
                    send(c.fd.get(), late.data(), late.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            }
            c.done = true;
        }
        connections.remove_if([](const Connection& c) { return c.done; });
        if (fds[0].revents & POLLIN) {
            for (int accepted = 0; accepted < 64; accepted++) {
                int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) break;
                if (connections.size() >= max_connections) connections.pop_front(); // the oldest
                Connection& c = connections.emplace_back();
                c.fd = FileDescriptor(fd);
                c.deadline = now + connection_timeout_s;
                if (tls) {
                    c.ssl.reset(SSL_new(tls));
                    if (!c.ssl || SSL_set_fd(c.ssl.get(), fd) != 1) {
                        ERR_clear_error();
                        connections.pop_back();
                        continue;
                    }
                    SSL_set_accept_state(c.ssl.get());
                }
            }
        }
    }
}

} // namespace

int export_command(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    std::string names, defaults, opt_in;
    for (const CollectorEntry& c : all_collectors()) {
        names += std::string(names.empty() ? "" : ",") + c.name;
        std::string& list = c.by_default ? defaults : opt_in;
        list += std::string(list.empty() ? "" : ",") + c.name;
    }
    CommandLine cli("corescope export",
                    "Serve the in-kernel aggregations of corescope's tools to Prometheus.", {});
    cli.add_text(0, "web.listen-address", "HOST:PORT",
                 std::string("where to serve /metrics (default ") + default_listen_address + ")",
                 &settings.listen_address);
    cli.add_option(0, "collectors", "LIST",
                   "the collectors to run, comma-separated; \"default\" names those on by "
                   "default (" +
                       (defaults.empty() ? "none" : defaults) +
                       "); opt-in: " + (opt_in.empty() ? "none" : opt_in),
                   [&](std::string_view v) { settings.collectors = split_list(v); });
    cli.add_number(0, "max-series", "N",
                   "at most N series per metric family; the rest are summed into one (default 500)",
                   &settings.max_series, 1, 1000000);
    cli.add_number(0, "web.max-connections", "N",
                   "at most N clients at once; a new one replaces the oldest (default 16)",
                   &settings.max_connections, 1, 4096);
    cli.add_text(0, "web.config.file", "FILE",
                 "TLS and basic authentication, as Prometheus' exporter-toolkit reads them "
                 "(tls_server_config: cert_file, key_file; basic_auth_users: bcrypt hashes)",
                 &settings.web_config_file);
    cli.add_switch(0, "bpf-stats",
                   "turn the kernel's BPF statistics on while the exporter runs, for each "
                   "program's run count and time (they cost about 20 ns per run)",
                   &settings.bpf_stats);
    cli.set_examples("  corescope export                          the default collectors, on " +
                     std::string(default_listen_address) +
                     "\n"
                     "  corescope export --collectors runqlat     the run-queue histogram only\n"
                     "  corescope export --collectors default,syscount   and system calls\n"
                     "  corescope export --web.listen-address :19435   on every address\n"
                     "  corescope export --dry-run                load and verify, then exit\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    std::vector<const CollectorEntry*> chosen;
    auto choose = [&](const CollectorEntry* c) {
        if (std::find(chosen.begin(), chosen.end(), c) == chosen.end()) chosen.push_back(c);
    };
    if (settings.collectors.empty()) settings.collectors = {"default"};
    for (const std::string& name : settings.collectors) {
        if (name == "default") {
            for (const CollectorEntry& c : all_collectors())
                if (c.by_default) choose(&c);
            continue;
        }
        const CollectorEntry* found = nullptr;
        for (const CollectorEntry& c : all_collectors())
            if (name == c.name) found = &c;
        if (!found)
            throw UsageError("--collectors: no collector '" + name +
                             "' (this corescope has: " + (names.empty() ? "none" : names) + ")");
        choose(found);
    }
    if (chosen.empty()) throw UsageError("no collectors built into this corescope");

    WebConfig web;
    if (!settings.web_config_file.empty()) web = read_web_config(settings.web_config_file);
    SslContext tls;
    if (web.tls()) tls = make_ssl_context(web);

    install_stop_handlers();
    FileDescriptor listener;
    if (!options.dry_run) listener = listen_on(settings.listen_address);
    // A collector this kernel cannot run is said once on stderr and reported
    // as failing at every scrape; the others serve. --dry-run fails on it.
    std::vector<std::pair<std::string, std::unique_ptr<ExportCollector>>> collectors;
    std::string first_error;
    size_t loaded = 0;
    for (const CollectorEntry* c : chosen) {
        std::unique_ptr<ExportCollector> collector;
        try {
            collector = c->make(options);
        } catch (const RuntimeError& e) {
            if (options.dry_run) throw;
            warn("export: collector %s cannot run here: %s", c->name, e.what());
            if (first_error.empty()) first_error = e.what();
        }
        loaded += collector != nullptr;
        collectors.emplace_back(c->name, std::move(collector));
    }
    if (options.dry_run) return exit_ok;
    if (loaded == 0) throw RuntimeError(first_error);
    Exporter exporter(std::move(collectors), settings.max_series);
    if (settings.bpf_stats) exporter.enable_bpf_stats();
    exporter.set_users(web.users);
    std::fprintf(stderr, "corescope export: %zu collectors, serving %s://%s/metrics%s\n", loaded,
                 tls ? "https" : "http", settings.listen_address.c_str(),
                 web.users.empty() ? "" : " (basic authentication)");
    serve(listener.get(), exporter, settings.max_connections, tls.get());
    return exit_ok;
}

} // namespace corescope
