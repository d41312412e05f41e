// tplist: the tracepoints of this kernel (tracefs events/*/*, with their
// fields from each format file) and the USDT probes of a library, a program
// or a process's mapped files (ELF .note.stapsdt notes, with their argument
// specs). It loads no BPF: it reads files.
#include "decoder.h"
#include "probe_spec.h"
#include "record.h"
#include "run.h"
#include "text_file.h"
#include "tracepoint_format.h"
#include "user_files.h"
#include "usdt_notes.h"

#include <algorithm>
#include <cstdio>

namespace corescope::tools {

namespace {

// The layouts: JSON has the parts, text one line a probe (and with -v one
// more a field or site), written whole as a text-only column.
const RecordLayout tracepoint_layout = {
    .fields = {json_field("type"), json_field("probe"), text_column("PROBE", 0),
               json_field("category"), json_field("event"), json_field("id"), json_field("fields")},
    .text_header = false,
    .time_prefix = false};
const RecordLayout usdt_layout = {
    .fields = {json_field("type"), json_field("path"), json_field("probe"), text_column("PROBE", 0),
               json_field("provider"), json_field("name"), json_field("sites")},
    .text_header = false,
    .time_prefix = false};

// "sched:sched_switch", and with -v its fields, one a line.
std::string tracepoint_text(const std::string& probe, const std::vector<TracepointField>& fields,
                            bool verbose) {
    std::string b = text_escaped(probe);
    if (verbose) append_tracepoint_fields_text(b, fields);
    return b;
}

// "PATH PROVIDER:NAME ARGS", and with -v each site and its arguments.
std::string usdt_text(const std::string& path, const std::vector<const UsdtNote*>& sites,
                      bool verbose) {
    const UsdtNote& first = *sites.front();
    std::string b = text_escaped(path);
    b += ' ';
    append_text_escaped(b, first.provider + ":" + first.name);
    if (!first.arguments.empty()) {
        b += ' ';
        append_text_escaped(b, first.arguments);
    }
    if (verbose)
        for (const UsdtNote* site : sites)
            append_usdt_site_text(b, *site);
    return b;
}

class Printer {
  public:
    Printer(const CommonOptions& options, Output& out)
        : verbose_(options.verbose), tracepoints_(options, out, tracepoint_layout),
          usdt_(options, out, usdt_layout) {}

    void tracepoint(const std::string& category, const std::string& event, uint64_t id,
                    const std::vector<TracepointField>& fields) {
        std::string probe = category + ":" + event;
        tracepoints_.begin()
            .text("tracepoint")
            .text(probe)
            .lazy([&] { return Formatted{tracepoint_text(probe, fields, verbose_)}; })
            .text(category)
            .text(event)
            .number(id)
            .lazy([&] { return Formatted{tracepoint_fields_json(fields)}; })
            .end();
    }

    // The sites of one probe (provider and name), in file order.
    void usdt(const std::string& path, const std::vector<const UsdtNote*>& sites) {
        const UsdtNote& first = *sites.front();
        usdt_.begin()
            .text("usdt")
            .text(path)
            .text(first.provider + ":" + first.name)
            .lazy([&] { return Formatted{usdt_text(path, sites, verbose_)}; })
            .text(first.provider)
            .text(first.name)
            .lazy([&] { return Formatted{usdt_sites_json(sites)}; })
            .end();
    }

    // The probes of one file's notes, each provider and name once (its
    // sites together), those the filter takes; how many.
    size_t usdt_file(const std::string& path, const std::vector<UsdtNote>& notes,
                     const PairFilter& filter) {
        auto probes =
            usdt_probe_sites(notes, [&](std::string_view provider, std::string_view name) {
                return filter.takes(provider, name);
            });
        for (const auto& sites : probes) {
            if (usdt_.output().closed()) break;
            usdt(path, sites);
        }
        return probes.size();
    }

  private:
    bool verbose_;
    RecordWriter tracepoints_;
    RecordWriter usdt_;
};

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): each event is a
// tracepoint ('t', "CATEGORY:EVENT", a NUL, its format file's text) or a
// file's USDT notes ('u', the path, a NUL, the raw bytes of a 64-bit
// little-endian .note.stapsdt section), printed as tplist prints them;
// variant bit 0: -v.
void decode_tplist(const CommonOptions& given, uint32_t variant, Output& out,
                   std::span<const RecordedEvent> events) {
    CommonOptions options = given;
    options.verbose = (variant & 1) != 0;
    Printer printer(options, out);
    for (const RecordedEvent& e : events) {
        std::string_view bytes(static_cast<const char*>(e.data), e.size);
        if (bytes.size() < 2) continue;
        char kind = bytes[0];
        bytes.remove_prefix(1);
        size_t nul = bytes.find('\0');
        if (nul == std::string_view::npos) continue;
        std::string name(bytes.substr(0, nul));
        std::string_view rest = bytes.substr(nul + 1);
        if (kind == 't') {
            size_t colon = name.find(':');
            if (colon == std::string::npos) continue;
            printer.tracepoint(name.substr(0, colon), name.substr(colon + 1), tracepoint_id(rest),
                               tracepoint_fields(rest));
        } else if (kind == 'u') {
            std::vector<UsdtNote> notes = parse_stapsdt_notes(
                {reinterpret_cast<const uint8_t*>(rest.data()), rest.size()}, 8, false);
            printer.usdt_file(name, notes, PairFilter(""));
        }
    }
}

int tplist(int argc, char** argv) {
    CommonOptions options;
    std::string library;
    std::string filter_text;
    CommandLine cli("tplist",
                    "List the kernel's tracepoints, or the USDT probes of a file or process, with "
                    "their arguments.",
                    {Flag::pid});
    cli.add_text('l', "lib", "LIB",
                 "the USDT probes of this library or program (a path, or a name: c is libc)",
                 &library);
    cli.set_positional("FILTER",
                       "only probes whose CATEGORY:EVENT or PROVIDER:NAME matches (* and ? "
                       "match any text); without a colon, either part",
                       [&](std::string_view v) { filter_text = std::string(v); });
    cli.set_examples("  tplist                          every tracepoint of this kernel\n"
                     "  tplist -v 'sched:sched_switch'  its fields\n"
                     "  tplist 'block:*'                the block layer's tracepoints\n"
                     "  tplist -l /usr/bin/python3      a program's USDT probes, with arguments\n"
                     "  tplist -v -l c                  the C library's, site by site\n"
                     "  tplist -p 181                   the USDT probes of every file 181 maps\n"
                     "  tplist -o json -v 'syscalls:sys_enter_open*'   JSON Lines");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (options.pids.size() > 1) throw UsageError("tplist takes one -p PID");
    if (!options.btf_path.empty()) {
        KernelFeatures& features = KernelFeatures::instance();
        features.set_btf_path(options.btf_path);
        if (features.kernel_btf() == nullptr)
            throw UsageError("invalid BTF file '" + options.btf_path +
                             "': " + features.btf_error());
    }
    PairFilter filter(filter_text);
    bool usdt_mode = !library.empty() || !options.pids.empty();

    // What it reads, checked before anything is printed.
    std::string tracefs = usdt_mode ? "" : readable_tracefs();
    std::vector<std::string> files; // USDT: the files, as found
    if (!library.empty()) {
        files.push_back(find_user_library(library, options.pids));
        usdt_notes(files.front()); // not ELF: one line now
    } else if (!options.pids.empty()) {
        files = executable_files_of_process(options.pids.front());
    }
    if (options.dry_run) {
        show_plan_without_bpf(options, "tplist",
                              usdt_mode ? "reads ELF notes" : "reads tracefs (" + tracefs + ")");
        return exit_ok;
    }

    Output out;
    Printer printer(options, out);
    size_t listed = 0;
    if (usdt_mode) {
        for (const std::string& path : files) {
            std::vector<UsdtNote> notes;
            try {
                notes = usdt_notes(path);
            } catch (const RuntimeError&) {
                if (!library.empty()) throw;
                continue; // a mapped file that is not ELF, or gone
            }
            // The -p process's root is left out of printed paths.
            std::string shown =
                options.pids.empty() ? path : path_in_process(path, options.pids[0]);
            listed += printer.usdt_file(shown, notes, filter);
            if (out.closed()) break;
        }
    } else {
        std::string events = tracefs + "/events";
        for (const std::string& category : subdirectories(events)) {
            for (const std::string& event : subdirectories(events + "/" + category)) {
                if (!filter.takes(category, event)) continue;
                TracepointFormat format;
                // The fields are read only where they show (-v, JSON).
                if (options.verbose || options.format != OutputFormat::text)
                    format = read_tracepoint_format(events, category, event);
                printer.tracepoint(category, event, format.id, format.fields);
                listed++;
                if (out.closed()) break;
            }
            if (out.closed()) break;
        }
    }
    out.flush();
    out.check();
    if (listed == 0 && !out.closed()) {
        std::string what = usdt_mode ? "USDT probe" : "tracepoint";
        if (!filter_text.empty())
            throw RuntimeError("no " + what + " matches '" + filter_text + "'" +
                               (usdt_mode && files.size() == 1 ? " in " + files.front() : ""));
        if (!library.empty()) throw RuntimeError(files.front() + " has no USDT probes");
        if (usdt_mode)
            throw RuntimeError("process " + std::to_string(options.pids.front()) +
                               " maps no file with USDT probes");
    }
    return exit_ok;
}

} // namespace corescope::tools
