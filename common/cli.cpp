#include "cli.h"

#include "errors.h"
#include "version.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <sys/stat.h>

namespace corescope {

namespace {

// The kernel never hands out PIDs above PID_MAX_LIMIT (4M on 64-bit).
constexpr uint64_t pid_max_limit = 4194304;

std::string quoted(std::string_view text) {
    return "'" + std::string(text) + "'";
}

bool parse_only = false;

std::string& program_name_storage() {
    static std::string name;
    return name;
}

} // namespace

void set_program_name(std::string name) {
    program_name_storage() = std::move(name);
}

const std::string& program_name() {
    return program_name_storage();
}

const std::string& CommandLine::shown_name() const {
    return program_name().empty() ? tool_ : program_name();
}

void set_parse_only(bool value) {
    parse_only = value;
}

uint64_t parse_unsigned(std::string_view what, std::string_view text, uint64_t min, uint64_t max) {
    uint64_t value = 0;
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(begin, end, value, 10);
    if (!text.empty() && text[0] == '-')
        throw UsageError("invalid " + std::string(what) + " " + quoted(text) + ": must be " +
                         std::to_string(min) + " to " + std::to_string(max));
    if (text.empty() || ec == std::errc::invalid_argument || ptr != end)
        throw UsageError("invalid " + std::string(what) + " " + quoted(text) +
                         ": not a whole number");
    if (ec == std::errc::result_out_of_range || value < min || value > max)
        throw UsageError("invalid " + std::string(what) + " " + quoted(text) + ": must be " +
                         std::to_string(min) + " to " + std::to_string(max));
    return value;
}

uint64_t parse_address(std::string_view what, std::string_view text) {
    std::string_view digits = text;
    int base = 10;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
        digits.remove_prefix(2);
        base = 16;
    }
    uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || value == 0)
        throw UsageError("invalid " + std::string(what) + " " + quoted(text) +
                         ": a non-zero address, e.g. 0x7f1c2a3b4010");
    return value;
}

uint32_t parse_pid(std::string_view what, std::string_view text) {
    return static_cast<uint32_t>(parse_unsigned(what, text, 1, pid_max_limit));
}

double parse_seconds(std::string_view what, std::string_view text) {
    std::string copy(text);
    char* end = nullptr;
    double value = copy.empty() ? NAN : std::strtod(copy.c_str(), &end);
    if (copy.empty() || end == nullptr || *end != '\0' || !std::isfinite(value) || value <= 0 ||
        value > 365.0 * 24 * 3600)
        throw UsageError("invalid " + std::string(what) + " " + quoted(text) +
                         ": must be a positive number of seconds");
    return value;
}

double parse_milliseconds(std::string_view what, std::string_view text) {
    std::string copy(text);
    char* end = nullptr;
    double value = copy.empty() ? NAN : std::strtod(copy.c_str(), &end);
    if (copy.empty() || end == nullptr || *end != '\0' || !std::isfinite(value) || value < 0 ||
        value > 3600e3)
        throw UsageError("invalid " + std::string(what) + " " + quoted(text) +
                         ": must be a number of milliseconds, 0 or more");
    return value;
}

void CommandLine::add_text(char short_name, std::string long_name, std::string value_name,
                           std::string help, std::string* target) {
    std::string what = "--" + long_name;
    add_option(short_name, std::move(long_name), std::move(value_name), std::move(help),
               [=](std::string_view v) {
                   if (v.empty()) throw UsageError("invalid " + what + " '': must not be empty");
                   *target = std::string(v);
               });
}

CommandLine::CommandLine(std::string tool, std::string summary, std::vector<Flag> flags)
    : tool_(std::move(tool)), summary_(std::move(summary)), flags_(flags) {
    CommonOptions** target = &current_;
    add_common(flags, target);
}

void CommandLine::add_common(const std::vector<Flag>& flags, CommonOptions** target) {
    auto has = [&](Flag f) {
        for (Flag g : flags)
            if (g == f) return true;
        return false;
    };
    auto opts = [target]() -> CommonOptions& { return **target; };
    if (has(Flag::pid))
        options_.push_back(
            {'p', "pid", "PID", "only this process (repeatable)",
             [opts](std::string_view v) { opts().pids.push_back(parse_pid("PID", v)); }});
    if (has(Flag::tid))
        options_.push_back({'t', "tid", "TID", "only this thread",
                            [opts](std::string_view v) { opts().tid = parse_pid("TID", v); }});
    if (has(Flag::pid) && has(Flag::tid))
        exclusive({"-p", "-t"}, "a thread filter already names its process");
    if (has(Flag::uid))
        options_.push_back({'u', "uid", "UID", "only this user", [opts](std::string_view v) {
                                opts().uid = static_cast<uint32_t>(
                                    parse_unsigned("UID", v, 0, UINT32_MAX - 1));
                            }});
    if (has(Flag::cgroup))
        options_.push_back({'c', "cgroup", "PATH", "only tasks in this cgroup (v2 path)",
                            [opts](std::string_view v) {
                                struct stat st {};
                                std::string path(v);
                                if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
                                    throw UsageError("invalid cgroup " + quoted(v) +
                                                     ": not a cgroup directory");
                                opts().cgroup = path;
                            }});
    if (has(Flag::name))
        options_.push_back({'n', "name", "TEXT", "only commands whose name contains TEXT",
                            [opts](std::string_view v) {
                                if (v.empty())
                                    throw UsageError("invalid name '': must not be empty");
                                opts().name = std::string(v);
                            }});
    if (has(Flag::failed))
        options_.push_back({'x', "failed", "", "only failed operations",
                            [opts](std::string_view) { opts().failed = true; }});
    if (has(Flag::time))
        options_.push_back({'T', "time", "", "print a wall-clock time column",
                            [opts](std::string_view) { opts().time = true; }});
    if (has(Flag::print_uid))
        options_.push_back({'U', "print-uid", "", "print a UID column",
                            [opts](std::string_view) { opts().print_uid = true; }});
    if (has(Flag::duration))
        options_.push_back(
            {'d', "duration", "SECONDS", "stop after this long",
             [opts](std::string_view v) { opts().duration = parse_seconds("duration", v); }});
    if (has(Flag::milliseconds))
        options_.push_back({'m', "milliseconds", "", "histogram in milliseconds",
                            [opts](std::string_view) { opts().milliseconds = true; }});
    if (has(Flag::interval_flag))
        options_.push_back({'i', "interval", "SECONDS",
                            "print every SECONDS (the interval argument, as the classic tool "
                            "spells it)",
                            [opts](std::string_view v) {
                                opts().interval = static_cast<uint32_t>(
                                    parse_unsigned("--interval", v, 1, 86400));
                            }});
    takes_interval_ = has(Flag::interval);

    options_.push_back({'o', "output", "FORMAT", "output format: " + format_names(),
                        [this, opts](std::string_view v) {
                            if (v == "text") {
                                opts().format = OutputFormat::text;
                                return;
                            }
                            if (v == "json") {
                                opts().format = OutputFormat::json;
                                return;
                            }
                            for (const auto& [name, format] : extra_formats_)
                                if (v == name) {
                                    opts().format = format;
                                    return;
                                }
                            throw UsageError("invalid output format " + quoted(v) + ": must be " +
                                             format_names());
                        }});
    // The Prometheus text format of the counters (its export collector).
    if (has(Flag::prometheus)) add_output_format("prometheus", OutputFormat::prometheus);
    options_.push_back({0, "json", "", "same as -o json",
                        [opts](std::string_view) { opts().format = OutputFormat::json; }});
    options_.push_back({'v', "verbose", "",
                        "print the attach plan and libbpf diagnostics on stderr",
                        [opts](std::string_view) { opts().verbose = true; }});
    options_.push_back({0, "dry-run", "", "probe, load and verify, print the plan, attach nothing",
                        [opts](std::string_view) { opts().dry_run = true; }});
    options_.push_back({0, "btf", "FILE", "kernel BTF to use instead of /sys/kernel/btf/vmlinux",
                        [opts](std::string_view v) {
                            std::string path(v);
                            struct stat st {};
                            if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
                                throw UsageError("invalid BTF file " + quoted(v) +
                                                 ": no such file");
                            opts().btf_path = path;
                        }});
}

std::string CommandLine::format_names() const {
    std::vector<std::string> names = {"text", "json"};
    for (const auto& [name, format] : extra_formats_)
        names.push_back(name);
    std::string out;
    for (size_t i = 0; i < names.size(); i++)
        out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
    return out;
}

void CommandLine::add_output_format(std::string name, OutputFormat format) {
    extra_formats_.emplace_back(std::move(name), format);
    for (Option& o : options_)
        if (o.long_name == "output") o.help = "output format: " + format_names();
}

void CommandLine::set_positional(std::string name, std::string help,
                                 std::function<void(std::string_view)> setter) {
    positional_ = Positional{std::move(name), std::move(help), std::move(setter)};
}

void CommandLine::add_switch(char short_name, std::string long_name, std::string help,
                             bool* target) {
    options_.push_back({short_name, std::move(long_name), "", std::move(help),
                        [target](std::string_view) { *target = true; }});
}

void CommandLine::add_option(char short_name, std::string long_name, std::string value_name,
                             std::string help, std::function<void(std::string_view)> setter) {
    options_.push_back({short_name, std::move(long_name), std::move(value_name), std::move(help),
                        std::move(setter)});
}

const CommandLine::Option* CommandLine::find_short(char c) const {
    for (const Option& o : options_)
        if (o.short_name != 0 && o.short_name == c) return &o;
    return nullptr;
}

const CommandLine::Option* CommandLine::find_long(std::string_view name) const {
    for (const Option& o : options_)
        if (o.long_name == name) return &o;
    return nullptr;
}

void CommandLine::allow_svg() {
    add_output_format("svg", OutputFormat::svg);
}

ParseResult CommandLine::parse(int argc, const char* const* argv, CommonOptions& options) const {
    current_ = &options;
    options.accepted = flags_;
    options.invocation = shown_name();
    for (int i = 1; i < argc; i++) {
        options.invocation += ' ';
        options.invocation += argv[i];
    }
    std::vector<std::string_view> positionals;
    std::vector<bool> given(options_.size()); // by option, for the rules
    auto apply = [&](const Option* o, std::string_view value) {
        given[static_cast<size_t>(o - options_.data())] = true;
        o->apply(value);
    };
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        std::string_view arg = argv[i];
        if (options_done || arg.size() < 2 || arg[0] != '-') {
            positionals.push_back(arg);
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        if (arg == "-h" || arg == "--help") {
            std::fputs(help().c_str(), stdout);
            return ParseResult::exit_success;
        }
        if (arg == "--version") {
            std::printf("%s (corescope) %s\n", shown_name().c_str(), corescope_version);
            return ParseResult::exit_success;
        }
        if (arg == "--list-options") {
            std::fputs(option_table().c_str(), stdout);
            return ParseResult::exit_success;
        }
        if (arg.substr(0, 2) == "--") {
            std::string_view name = arg.substr(2);
            std::optional<std::string_view> inline_value;
            if (auto eq = name.find('='); eq != std::string_view::npos) {
                inline_value = name.substr(eq + 1);
                name = name.substr(0, eq);
            }
            const Option* o = find_long(name);
            if (o == nullptr) throw UsageError("unknown option " + quoted(arg));
            if (o->value_name.empty()) {
                if (inline_value) throw UsageError("option --" + o->long_name + " takes no value");
                apply(o, {});
            } else if (inline_value) {
                apply(o, *inline_value);
            } else if (i + 1 < argc) {
                apply(o, argv[++i]);
            } else {
                throw UsageError("option --" + o->long_name + " needs a " + o->value_name);
            }
            continue;
        }
        // A cluster of short switches, possibly ending in one that takes a
        // value: -xT, -p123, -xp 123.
        for (size_t j = 1; j < arg.size(); j++) {
            const Option* o = find_short(arg[j]);
            if (o == nullptr) throw UsageError("unknown option '-" + std::string(1, arg[j]) + "'");
            if (o->value_name.empty()) {
                apply(o, {});
                continue;
            }
            if (j + 1 < arg.size())
                apply(o, arg.substr(j + 1));
            else if (i + 1 < argc)
                apply(o, argv[++i]);
            else
                throw UsageError("option -" + std::string(1, arg[j]) + " needs a " + o->value_name);
            break;
        }
    }
    if (positional_ && takes_interval_ && !positionals.empty()) {
        // The tool's own argument first, then interval [count] (funccount).
        positional_->apply(positionals[0]);
        positionals.erase(positionals.begin());
    }
    if (positional_ && !takes_interval_) {
        if (positionals.size() > 1)
            throw UsageError("unexpected argument " + quoted(positionals[1]));
        if (!positionals.empty()) positional_->apply(positionals[0]);
        positionals.clear();
    }
    if (!positionals.empty() && !takes_interval_)
        throw UsageError("unexpected argument " + quoted(positionals[0]));
    if (positionals.size() > 2) throw UsageError("unexpected argument " + quoted(positionals[2]));
    if (!positionals.empty())
        options.interval =
            static_cast<uint32_t>(parse_unsigned("interval", positionals[0], 1, 86400));
    if (positionals.size() == 2)
        options.count = parse_unsigned("count", positionals[1], 1, UINT64_MAX);
    check_rules(given);
    if (options.format == OutputFormat::svg && options.interval)
        throw UsageError("-o svg draws one flame graph at the end: it takes no interval");
    current_ = nullptr;
    return parse_only ? ParseResult::exit_success : ParseResult::run;
}

void CommandLine::exclusive(std::vector<std::string> flags, std::string why) {
    rules_.push_back({std::move(flags), std::move(why)});
}

void CommandLine::needs(std::string flag, std::string needed, std::string why) {
    rules_.push_back({{std::move(flag), std::move(needed)}, std::move(why), true});
}

size_t CommandLine::option_index(std::string_view flag) const {
    const Option* o = nullptr;
    if (flag.starts_with("--"))
        o = find_long(flag.substr(2));
    else if (flag.size() == 2 && flag[0] == '-')
        o = find_short(flag[1]);
    if (o == nullptr)
        throw std::logic_error(tool_ + ": a rule names no option: " + std::string(flag));
    return static_cast<size_t>(o - options_.data());
}

void CommandLine::check_rules(const std::vector<bool>& given) const {
    for (const Rule& rule : rules_) {
        std::string why = rule.why.empty() ? "" : ": " + rule.why;
        if (rule.needs) {
            bool flag = given[option_index(rule.flags[0])];
            bool needed = given[option_index(rule.flags[1])];
            if (flag && !needed) throw UsageError(rule.flags[0] + " needs " + rule.flags[1] + why);
            continue;
        }
        size_t count = 0;
        for (const std::string& flag : rule.flags)
            count += given[option_index(flag)] ? 1 : 0;
        if (count < 2) continue;
        std::string names;
        for (size_t i = 0; i < rule.flags.size(); i++)
            names += (i == 0 ? "" : i + 1 == rule.flags.size() ? " and " : ", ") + rule.flags[i];
        throw UsageError(names + " cannot be combined" + why);
    }
    for (const auto& range : ranges_)
        range();
}

void CommandLine::throw_unordered(const std::string& low_flag, uint64_t low,
                                  const std::string& high_flag, uint64_t high) {
    throw UsageError("invalid " + low_flag + " " + std::to_string(low) + ": above " + high_flag +
                     " " + std::to_string(high));
}

std::string CommandLine::option_table() const {
    std::string out;
    auto row = [&out](std::string short_form, std::string long_form, std::string_view value_name,
                      std::string_view help) {
        out += short_form + "\t" + long_form + "\t" + std::string(value_name) + "\t" +
               std::string(help) + "\n";
    };
    for (const Option& o : options_)
        row(o.short_name ? std::string("-") + o.short_name : "", "--" + o.long_name, o.value_name,
            o.help);
    row("-h", "--help", "", "show this help and exit");
    row("", "--version", "", "print the version and exit");
    return out;
}

std::string CommandLine::help() const {
    std::string out = "Usage: " + shown_name() + " [OPTIONS]";
    if (positional_) out += " [" + positional_->name + "]";
    if (takes_interval_) out += " [interval [count]]";
    out += "\n" + summary_ + "\n\nOptions:\n";
    for (const Option& o : options_) {
        std::string left = "  ";
        left += o.short_name ? std::string("-") + o.short_name + ", " : "    ";
        left += "--" + o.long_name;
        if (!o.value_name.empty()) left += " " + o.value_name;
        if (left.size() < 28)
            left.resize(28, ' ');
        else
            left += "\n" + std::string(28, ' ');
        out += left + o.help + "\n";
    }
    out += "  -h, --help                show this help and exit\n";
    out += "      --version             print the version and exit\n";
    if (takes_interval_ && positional_) {
        std::string left = "  " + positional_->name;
        left.resize(std::max<size_t>(left.size() + 1, 28), ' ');
        out += "\nArguments:\n" + left + positional_->help +
               "\n  interval                  seconds between summaries (default: one at exit)\n"
               "  count                     number of summaries, then exit\n";
    } else if (takes_interval_)
        out += "\nArguments:\n  interval                  seconds between summaries (default: one "
               "at exit)\n"
               "  count                     number of summaries, then exit\n";
    else if (positional_) {
        std::string left = "  " + positional_->name;
        left.resize(std::max<size_t>(left.size() + 1, 28), ' ');
        out += "\nArguments:\n" + left + positional_->help + "\n";
    }
    if (!examples_.empty()) out += "\nExamples:\n" + examples_;
    return out;
}

} // namespace corescope
