// sslsniff: the plaintext of TLS reads and writes in OpenSSL, through
// uprobes on SSL_read, SSL_write, SSL_read_ex and SSL_write_ex in libssl.
#include "decoder.h"
#include "errors.h"
#include "event_fields.h"
#include "output.h"
#include "run.h"
#include "user_files.h"

#include <linux/types.h>
#include "sslsniff.skel.h"
#include "sslsniff/sslsniff.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <sys/stat.h>

namespace corescope::tools {

namespace {

const char* const func_names[] = {"READ", "WRITE"};
const char* const function_names[2][2] = {{"SSL_read", "SSL_read_ex"},
                                          {"SSL_write", "SSL_write_ex"}};

// decode_sslsniff's variant bits.
constexpr uint32_t variant_hexdump = 1; // --hexdump
constexpr uint32_t variant_latency = 2; // -l: the LAT(ms) column

std::string hex_bytes(std::string_view bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        s += digits[c >> 4];
        s += digits[c & 15];
    }
    return s;
}

struct Printer {
    bool hexdump = false;
    bool latency = false;

    RecordLayout layout() const {
        return {task_all,
                {column("func", "FUNC", 6), json_field("function"), comm_column(), pid_column(),
                 column("len", "LEN", 6, Align::right),
                 shown_if(latency, text_column("LAT(ms)", 9, Align::right)),
                 json_field("latency_ms"), json_field("captured"), json_field("truncated"),
                 column("data", "DATA", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<sslsniff_event>(data, size, offsetof(sslsniff_event, data));
        if (!e) return;
        // At most what was sent, and never more than the call moved.
        size_t captured = std::min<size_t>(
            {e->captured, size - offsetof(sslsniff_event, data), SSLSNIFF_DATA_MAX, e->len});
        std::string_view bytes(e->data, captured);
        bool cut = e->len > captured;
        Record r = records.begin(task_of(*e));
        if (!r) return;
        r.text(func_names[e->func & 1]).text(function_names[e->func & 1][e->ex & 1]).number(e->len);
        double latency_ms = static_cast<double>(e->lat_ns) / 1e6;
        r.real(latency_ms).real(latency_ms).number(captured).boolean(cut);
        if (records.json()) {
            r.text(bytes); // exact, whatever --hexdump says
        } else {
            // Escaped (or in hex), so that no byte acts on the terminal; a
            // call cut at the capture limit says how much is left out.
            r.lazy([&] {
                std::string s;
                if (hexdump)
                    s = hex_bytes(bytes);
                else
                    append_text_escaped(s, bytes);
                if (cut) s += "...[" + std::to_string(e->len - captured) + " bytes cut]";
                return Formatted{s};
            });
        }
        r.end();
    }
};

const UserFile libssl{
    "libssl",
    [](std::string_view name) { return is_shared_library(name, "libssl"); },
    {"/usr/lib/x86_64-linux-gnu/libssl.so.3", "/lib/x86_64-linux-gnu/libssl.so.3",
     "/usr/lib/aarch64-linux-gnu/libssl.so.3", "/lib/aarch64-linux-gnu/libssl.so.3",
     "/usr/lib/riscv64-linux-gnu/libssl.so.3", "/usr/lib64/libssl.so.3", "/lib64/libssl.so.3",
     "/usr/lib/libssl.so.3", "/lib/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libssl.so.1.1",
     "/usr/lib64/libssl.so.1.1", "/usr/lib/libssl.so.1.1"},
    "--libssl PATH"};

std::vector<AttachStep> attach_steps(const std::vector<std::string>& libs) {
    static const char* const entries[][2] = {{"SSL_read", "ssl_read_entry"},
                                             {"SSL_write", "ssl_write_entry"},
                                             {"SSL_read_ex", "ssl_read_ex_entry"},
                                             {"SSL_write_ex", "ssl_write_ex_entry"}};
    AttachWay uprobes;
    for (const std::string& lib : libs) {
        for (const auto& [function, program] : entries) {
            std::optional<uint64_t> offset = function_offset(lib, function);
            if (!offset) {
                // OpenSSL before 1.1.1 has no _ex calls.
                if (std::string_view(function).ends_with("_ex")) continue;
                throw RuntimeError(lib + " defines no " + function +
                                   " (not OpenSSL's libssl?): name it with --libssl PATH");
            }
            char at[32];
            std::snprintf(at, sizeof at, ":0x%llx", static_cast<unsigned long long>(*offset));
            uprobes.points.push_back({program, AttachKind::uprobe, lib + at});
            uprobes.points.push_back({"ssl_return", AttachKind::uretprobe, lib + at});
        }
    }
    return {{"TLS reads and writes (OpenSSL)", {uprobes}}};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h). Variant bits: 1
// --hexdump, 2 -l (the latency column).
void decode_sslsniff(const CommonOptions& options, uint32_t variant, Output& out,
                     std::span<const RecordedEvent> events) {
    decode_events(Printer{(variant & variant_hexdump) != 0, (variant & variant_latency) != 0},
                  options, out, events);
}

int sslsniff(int argc, char** argv) {
    CommonOptions options;
    Printer printer;
    uint32_t max_buffer = 8192;
    std::string lib;
    CommandLine cli("sslsniff",
                    "Show the plaintext of TLS reads and writes in OpenSSL (SSL_read, SSL_write "
                    "and their _ex forms), escaped.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::print_uid, Flag::duration});
    cli.add_switch(0, "hexdump", "print the data in hex", &printer.hexdump);
    cli.add_switch('l', "latency", "print each call's latency (LAT(ms))", &printer.latency);
    cli.add_number('s', "max-buffer-size", "SIZE",
                   "bytes captured of a call at most (default 8192, at most " +
                       std::to_string(SSLSNIFF_DATA_MAX) + ")",
                   &max_buffer, 1, SSLSNIFF_DATA_MAX);
    cli.add_option(0, "libssl", "PATH",
                   "probe this libssl (default: the one -p's processes use, else the system's)",
                   [&lib](std::string_view v) {
                       std::string path(v);
                       struct stat st {};
                       if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
                           throw UsageError("invalid --libssl '" + path + "': no such file");
                       lib = path;
                   });
    cli.set_examples("  sslsniff                      every process using the system's libssl\n"
                     "  sslsniff -p 181               process 181, in its own libssl\n"
                     "  sslsniff --hexdump -s 64      the first 64 bytes of each call, in hex\n"
                     "  sslsniff -l -T                with latency and wall-clock time\n"
                     "  sslsniff -o json              JSON Lines, the data exact\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<sslsniff_bpf>(
        {.name = "sslsniff",
         .options = options,
         .attach_steps = [&] { return attach_steps(user_file_paths(libssl, lib, options.pids)); },
         .configure = [&](sslsniff_bpf& skel,
                          const AttachPlan&) { skel.rodata->capture_limit = max_buffer; },
         .announcement = "Tracing TLS reads and writes (OpenSSL)... Hit Ctrl-C to end."},
        printer);
}

} // namespace corescope::tools
