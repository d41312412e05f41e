// ksnoop: the arguments and return value of each call of a kernel
// function, typed from the kernel's BTF: one line per call, at its return.
#include "decoder.h"
#include "event_fields.h"
#include "function_signature.h"
#include "run.h"

#include <linux/types.h>
#include "ksnoop.skel.h"
#include "ksnoop/ksnoop.h"

#include <bpf/btf.h>
#include <cinttypes>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace corescope::tools {

namespace {

// What the dry run plans for when no function is named (corescope doctor):
// a function every kernel has.
constexpr const char* example_function = "vfs_read";

class Printer {
  public:
    Printer(FunctionSignature signature, const FunctionRequest& request)
        : signature_(std::move(signature)),
          shown_(shown_params(signature_, request, KSNOOP_MAX_ARGS)),
          show_ret_(request.ret && !signature_.returns_void) {}

    uint32_t nr_args() const {
        return static_cast<uint32_t>(std::min<size_t>(signature_.params.size(), KSNOOP_MAX_ARGS));
    }

    // PID, TID, COMM, LAT(us), then the call: "f(a=1, b=0x...) = -22".
    RecordLayout layout() const {
        return {task_all,
                {pid_column(), tid_column(), comm_column(), json_field("function"),
                 json_field("args"), json_field("ret"), json_field("duration_ns"),
                 with_decimals(3, text_column("LAT(us)", 10, Align::right)),
                 text_column("CALL", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<ksnoop_event>(data, size);
        if (!e) return;
        Record r = records.begin(task_of(*e));
        if (!r) return;
        std::string call = signature_.function + "(", args = "{";
        for (size_t n = 0; n < shown_.size(); n++) {
            size_t i = shown_[n];
            const FunctionParam& p = signature_.params[i];
            ShownValue v = i < e->nr_args && i < KSNOOP_MAX_ARGS ? show_value(p.type, e->args[i])
                                                                 : ShownValue{"?", "null"};
            if (n) {
                call += ", ";
                args += ',';
            }
            call += p.name + "=" + v.text;
            args += "\"" + p.name + "\":" + v.json;
        }
        call += ")";
        args += "}";
        r.text(signature_.function).formatted(args);
        if (show_ret_) {
            ShownValue v = show_value(signature_.ret, e->ret);
            call += " = " + v.text;
            r.formatted(v.json);
        } else {
            r.absent();
        }
        r.number(e->duration_ns)
            .real(static_cast<double>(e->duration_ns) / 1000.0)
            .text(call)
            .end();
    }

  private:
    FunctionSignature signature_;
    std::vector<size_t> shown_; // params shown, in order
    bool show_ret_ = true;
};

std::vector<AttachStep> attach_steps(const std::string& function) {
    AttachStep step{"calls of " + function, {}};
    step.ways.push_back({{{"fentry_call", AttachKind::fentry, function},
                          {"fexit_call", AttachKind::fexit, function}}});
    step.ways.push_back({{{"kprobe_call", AttachKind::kprobe, function},
                          {"kretprobe_call", AttachKind::kretprobe, function}}});
    return {step};
}

// The classic command word ("ksnoop trace FUNC", "ksnoop info FUNC"), taken
// out of argv: returns it, or "trace" when there is none.
std::string take_command(int& argc, char** argv) {
    for (int i = 1; i + 1 < argc; i++) {
        std::string_view a = argv[i];
        if (a != "trace" && a != "info") continue;
        // Not the value of the option before it.
        std::string_view before = argv[i - 1];
        bool value = before.size() == 2 && before[0] == '-' &&
                     std::string_view("ptucndo").find(before[1]) != std::string_view::npos;
        if (value) continue;
        std::string command(a);
        for (int j = i; j + 1 < argc; j++)
            argv[j] = argv[j + 1];
        argc--;
        return command;
    }
    return "trace";
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the events of
// __close_range(unsigned int fd, unsigned int max_fd, unsigned int flags)
// -> int, as the 6.1 guest records them; variant bit 0: only
// "(fd, return)", bit 1: the arguments as an enum and a pointer.
void decode_ksnoop(const CommonOptions& options, uint32_t variant, Output& out,
                   std::span<const RecordedEvent> events) {
    ValueType uint{ValueType::Kind::unsigned_int, 4, {}, "unsigned int"};
    ValueType sint{ValueType::Kind::signed_int, 4, {}, "int"};
    FunctionSignature s{
        "__close_range", {{"fd", uint}, {"max_fd", uint}, {"flags", uint}}, sint, false};
    if (variant & 2) {
        s.params[1].type = {ValueType::Kind::pointer, 8, {}, "struct file *"};
        s.params[2].type = {
            ValueType::Kind::enumeration, 4, {{4, "CLOSE_RANGE_CLOEXEC"}}, "enum x"};
    }
    FunctionRequest r;
    if (variant & 1) r = parse_function_request("__close_range(fd, return)");
    decode_events(Printer(s, r), options, out, events);
}

int ksnoop(int argc, char** argv) {
    CommonOptions options;
    std::optional<std::string> spec;
    std::string command = take_command(argc, argv);
    CommandLine cli("ksnoop",
                    "Arguments and return value of each call of a kernel function, typed from "
                    "BTF.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::print_uid, Flag::duration});
    cli.set_positional("FUNC", "FUNC, or FUNC(ARG, ..., return): the arguments to show",
                       [&](std::string_view v) { spec = std::string(v); });
    cli.set_examples("  ksnoop vfs_fsync                     every call, all arguments, return\n"
                     "  ksnoop 'vfs_read(count, return)'     only count and the return value\n"
                     "  ksnoop trace -p 181 do_mkdirat       process 181's calls\n"
                     "  ksnoop info __close_range            the prototype, from BTF\n"
                     "  ksnoop -o json vfs_fsync             JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    std::string btf_path = options.btf_path.empty() ? "/sys/kernel/btf/vmlinux" : options.btf_path;
    FunctionRequest request = parse_function_request(spec.value_or(example_function));

    if (command == "info") {
        if (!spec) throw UsageError("info needs a function: ksnoop info FUNC");
        FunctionSignature s = function_signature(request.function, btf_path);
        std::printf("%s;\n", prototype(s).c_str());
        return exit_ok;
    }

    // The signature, read once the tool knows BPF can be used (a run
    // without privileges says so first); no function is a usage error
    // except for the dry run, which plans for the example.
    std::optional<Printer> printer;
    auto steps = [&]() {
        if (!spec && !options.dry_run)
            throw UsageError("name a kernel function: ksnoop FUNC (ksnoop --help)");
        printer.emplace(function_signature(request.function, btf_path), request);
        return attach_steps(request.function);
    };
    struct Forward {
        std::optional<Printer>& printer;
        RecordLayout layout() const { return printer->layout(); }
        void print(RecordWriter& records, const void* data, size_t size) const {
            printer->print(records, data, size);
        }
    };
    return run_event_tool<ksnoop_bpf>(
        {.name = "ksnoop",
         .options = options,
         .attach_steps = steps,
         .configure = [&](ksnoop_bpf& skel,
                          const AttachPlan&) { skel.rodata->nr_args = printer->nr_args(); },
         .announcement = "Tracing " + request.function + "... Hit Ctrl-C to end."},
        Forward{printer});
}

} // namespace corescope::tools
