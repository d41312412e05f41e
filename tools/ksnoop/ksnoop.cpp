// ksnoop: the arguments and return value of each call of a kernel
// function, typed from the kernel's BTF: one line per call, at its return.
#include "decoder.h"
#include "event_fields.h"
#include "kernel_types.h"
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

// How a value of a BTF type prints.
struct ValueType {
    enum class Kind { signed_int, unsigned_int, boolean, pointer, enumeration, other };
    Kind kind = Kind::other;
    uint32_t size = 8;                                  // bytes
    std::vector<std::pair<int64_t, std::string>> names; // an enum's values
    std::string c_name;                                 // "unsigned int", "struct file *"
};

struct Param {
    std::string name;
    ValueType type;
};

// A function as the kernel's BTF describes it.
struct Signature {
    std::string function;
    std::vector<Param> params;
    ValueType ret;
    bool returns_void = false;
};

// What to trace and show: the function, the arguments shown (indexes into
// params, in the order given), and whether the return value is.
struct Request {
    std::string function;
    std::vector<std::string> args; // as given; empty: all
    bool ret = true;
    bool listed = false; // "FUNC(...)": only what the list names
};

// "FUNC" or "FUNC(arg, arg, return)". Members and predicates, which the
// classic tool takes, are refused by name.
Request parse_request(std::string_view text) {
    Request r;
    auto open = text.find('(');
    r.function = std::string(text.substr(0, open));
    auto valid_name = [](std::string_view n) {
        if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) return false;
        for (char c : n)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') return false;
        return true;
    };
    if (!valid_name(r.function))
        throw UsageError("invalid function '" + std::string(text) +
                         "': FUNC or FUNC(ARG, ..., return)");
    if (open == std::string_view::npos) return r;
    if (text.back() != ')')
        throw UsageError("invalid function '" + std::string(text) + "': no closing ')'");
    r.listed = true;
    r.ret = false;
    std::string_view list = text.substr(open + 1, text.size() - open - 2);
    while (!list.empty()) {
        auto comma = list.find(',');
        std::string_view word = list.substr(0, comma);
        while (!word.empty() && word.front() == ' ')
            word.remove_prefix(1);
        while (!word.empty() && word.back() == ' ')
            word.remove_suffix(1);
        if (word.find_first_of("-><=!") != std::string_view::npos || word.find(' ') != word.npos)
            throw UsageError("invalid argument '" + std::string(word) +
                             "': members and predicates (->, ==, >...) are not supported; name "
                             "the function's arguments or 'return'");
        if (word == "return")
            r.ret = true;
        else if (!valid_name(word))
            throw UsageError("invalid argument '" + std::string(word) + "' of " + r.function);
        else
            r.args.push_back(std::string(word));
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return r;
}

// The type id past typedefs and qualifiers.
uint32_t resolve(const KernelTypes& btf, uint32_t id) {
    for (int i = 0; i < 32; i++) {
        const btf_type* t = btf.type(id);
        if (!t) return id;
        int kind = btf_kind(t);
        if (kind != BTF_KIND_TYPEDEF && kind != BTF_KIND_CONST && kind != BTF_KIND_VOLATILE &&
            kind != BTF_KIND_RESTRICT && kind != BTF_KIND_TYPE_TAG)
            return id;
        id = t->type;
    }
    return id;
}

// A C spelling of a type: "unsigned int", "struct file *", "loff_t *".
std::string c_name(const KernelTypes& btf, uint32_t id, int depth = 0) {
    const btf_type* t = btf.type(id);
    if (!t) return "void";
    if (depth > 16) return "?";
    std::string name(btf.name(t->name_off));
    switch (btf_kind(t)) {
    case BTF_KIND_PTR:
        return c_name(btf, t->type, depth + 1) + " *";
    case BTF_KIND_CONST:
        return "const " + c_name(btf, t->type, depth + 1);
    case BTF_KIND_VOLATILE:
        return "volatile " + c_name(btf, t->type, depth + 1);
    case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPE_TAG:
        return c_name(btf, t->type, depth + 1);
    case BTF_KIND_STRUCT:
        return "struct " + name;
    case BTF_KIND_UNION:
        return "union " + name;
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64:
        return "enum " + name;
    case BTF_KIND_FUNC_PROTO:
        return "function";
    default:
        return name.empty() ? "?" : name;
    }
}

ValueType value_type(const KernelTypes& btf, uint32_t id) {
    ValueType v;
    v.c_name = c_name(btf, id);
    const btf_type* t = btf.type(resolve(btf, id));
    if (!t) return v;
    switch (btf_kind(t)) {
    case BTF_KIND_INT: {
        uint32_t encoding = btf_int_encoding(t);
        v.size = t->size;
        v.kind = encoding & BTF_INT_BOOL     ? ValueType::Kind::boolean
                 : encoding & BTF_INT_SIGNED ? ValueType::Kind::signed_int
                                             : ValueType::Kind::unsigned_int;
        break;
    }
    case BTF_KIND_PTR:
        v.kind = ValueType::Kind::pointer;
        break;
    case BTF_KIND_ENUM: {
        v.kind = ValueType::Kind::enumeration;
        v.size = t->size;
        const struct btf_enum* e = btf_enum(t);
        for (int i = 0; i < btf_vlen(t) && i < 4096; i++)
            v.names.push_back({e[i].val, std::string(btf.name(e[i].name_off))});
        break;
    }
    default:
        break;
    }
    return v;
}

// The function's signature from BTF; throws UsageError when there is none.
Signature signature_of(const std::string& function, const std::string& btf_path) {
    std::string error;
    std::unique_ptr<KernelTypes> btf = KernelTypes::open(btf_path, &error);
    if (!btf) throw RuntimeError("cannot read the kernel's BTF " + btf_path + ": " + error);
    int id = btf->find(function, BTF_KIND_FUNC);
    if (id < 0)
        throw UsageError("invalid function '" + function + "': no such function in " + btf_path +
                         " (an inlined or static function the compiler folded away has none)");
    const btf_type* func = btf->type(static_cast<uint32_t>(id));
    const btf_type* proto = btf->type(func->type);
    if (!proto || btf_kind(proto) != BTF_KIND_FUNC_PROTO)
        throw UsageError("invalid function '" + function + "': its BTF has no prototype");
    Signature s;
    s.function = function;
    s.returns_void = proto->type == 0;
    s.ret = value_type(*btf, proto->type);
    const btf_param* p = btf_params(proto);
    for (int i = 0; i < btf_vlen(proto); i++) {
        if (p[i].type == 0) break; // varargs
        s.params.push_back({std::string(btf->name(p[i].name_off)), value_type(*btf, p[i].type)});
    }
    return s;
}

std::string prototype(const Signature& s) {
    std::string text = (s.returns_void ? "void" : s.ret.c_name) + " " + s.function + "(";
    for (size_t i = 0; i < s.params.size(); i++) {
        if (i) text += ", ";
        text += s.params[i].type.c_name;
        if (!text.ends_with('*')) text += ' ';
        text += s.params[i].name;
    }
    return text + ")";
}

// A raw value as its type prints: in text, and as a JSON value.
struct Shown {
    std::string text, json;
};

Shown show(const ValueType& type, uint64_t raw) {
    char b[48];
    uint64_t mask = type.size >= 8 ? ~0ull : (1ull << (type.size * 8)) - 1;
    uint64_t v = raw & mask;
    int64_t sv = static_cast<int64_t>(v);
    if (type.size < 8 && (v >> (type.size * 8 - 1)) & 1) sv = static_cast<int64_t>(v | ~mask);
    switch (type.kind) {
    case ValueType::Kind::signed_int:
        std::snprintf(b, sizeof b, "%" PRId64, sv);
        return {b, b};
    case ValueType::Kind::unsigned_int:
        std::snprintf(b, sizeof b, "%" PRIu64, v);
        return {b, b};
    case ValueType::Kind::boolean:
        return v ? Shown{"true", "true"} : Shown{"false", "false"};
    case ValueType::Kind::enumeration:
        for (const auto& [value, name] : type.names)
            if (static_cast<uint64_t>(value) == v || value == sv) return {name, "\"" + name + "\""};
        std::snprintf(b, sizeof b, "%" PRId64, sv);
        return {b, b};
    case ValueType::Kind::pointer:
    case ValueType::Kind::other:
        break;
    }
    std::snprintf(b, sizeof b, "0x%" PRIx64, raw);
    return {b, std::string("\"") + b + "\""};
}

class Printer {
  public:
    Printer(Signature signature, const Request& request) : signature_(std::move(signature)) {
        show_ret_ = request.ret && !signature_.returns_void;
        if (request.args.empty() && !request.listed) {
            for (size_t i = 0; i < signature_.params.size(); i++)
                shown_.push_back(i);
            return;
        }
        for (const std::string& name : request.args) {
            size_t i = 0;
            while (i < signature_.params.size() && signature_.params[i].name != name)
                i++;
            if (i == signature_.params.size())
                throw UsageError("invalid argument '" + name + "': " + prototype(signature_) +
                                 " has none by that name");
            if (i >= KSNOOP_MAX_ARGS)
                throw UsageError("invalid argument '" + name + "': only the first " +
                                 std::to_string(KSNOOP_MAX_ARGS) + " arguments can be read");
            shown_.push_back(i);
        }
    }

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
            const Param& p = signature_.params[i];
            Shown v = i < e->nr_args && i < KSNOOP_MAX_ARGS ? show(p.type, e->args[i])
                                                            : Shown{"?", "null"};
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
            Shown v = show(signature_.ret, e->ret);
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
    Signature signature_;
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
    Signature s{"__close_range", {{"fd", uint}, {"max_fd", uint}, {"flags", uint}}, sint, false};
    if (variant & 2) {
        s.params[1].type = {ValueType::Kind::pointer, 8, {}, "struct file *"};
        s.params[2].type = {
            ValueType::Kind::enumeration, 4, {{4, "CLOSE_RANGE_CLOEXEC"}}, "enum x"};
    }
    Request r;
    if (variant & 1) r = parse_request("__close_range(fd, return)");
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
    Request request = parse_request(spec.value_or(example_function));

    if (command == "info") {
        if (!spec) throw UsageError("info needs a function: ksnoop info FUNC");
        Signature s = signature_of(request.function, btf_path);
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
        printer.emplace(signature_of(request.function, btf_path), request);
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
