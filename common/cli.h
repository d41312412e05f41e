// The one command line every tool shares (docs/flags.md). A tool names
// the shared flags it takes (each always with the same letter and
// meaning) and adds its own; the parser fills CommonOptions and calls the
// tool's setters, and throws UsageError naming the bad value.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corescope {

enum class Flag {
    pid,           // -p, --pid PID (repeatable)
    tid,           // -t, --tid TID
    uid,           // -u, --uid UID
    cgroup,        // -c, --cgroup PATH
    name,          // -n, --name TEXT
    failed,        // -x, --failed
    time,          // -T, --time
    print_uid,     // -U, --print-uid
    duration,      // -d, --duration SECONDS
    milliseconds,  // -m, --milliseconds
    interval,      // [interval [count]] positionals
    interval_flag, // -i, --interval SECONDS: the interval, as some classic tools spell it
    prometheus,    // -o prometheus: the tool's corescope export collector, one exposition
};

// text and json for every tool; the others only where a command adds them
// (CommandLine::add_output_format): svg, a flame graph (common/flamegraph.h),
// for the tools that collect stacks (allow_svg); triage's html; prometheus,
// the Prometheus text format 0.0.4 of a tool's counters or histograms (its
// corescope export collector), for the tools that declare Flag::prometheus.
enum class OutputFormat { text, json, svg, html, prometheus };

struct CommonOptions {
    std::vector<uint32_t> pids;
    std::optional<uint32_t> tid;
    std::optional<uint32_t> uid;
    std::string cgroup;
    std::string name;
    bool failed = false;
    bool time = false;
    bool print_uid = false;
    bool milliseconds = false;
    bool verbose = false;
    bool dry_run = false;
    std::optional<double> duration; // seconds
    OutputFormat format = OutputFormat::text;
    std::optional<uint32_t> interval; // seconds
    std::optional<uint64_t> count;    // intervals
    std::string btf_path;             // --btf FILE: kernel BTF other than /sys/kernel/btf/vmlinux
    // The command line as given ("profile -F 99 -d 10"): a flame graph's title.
    std::string invocation;
    // The shared flags the tool's command line takes: what it declared it
    // can honour (common/run.h checks its BPF side can).
    std::vector<Flag> accepted;
    bool accepts(Flag flag) const {
        for (Flag f : accepted)
            if (f == flag) return true;
        return false;
    }
};

enum class ParseResult { run, exit_success };

uint64_t parse_unsigned(std::string_view what, std::string_view text, uint64_t min, uint64_t max);

// The name this program was invoked as, which its messages give: argv[0]'s
// basename (ext4slower, bpf-opensnoop), or "corescope triage". run_tool sets
// it; empty until then (unit tests, fuzzers).
void set_program_name(std::string name);
const std::string& program_name();

class CommandLine {
  public:
    CommandLine(std::string tool, std::string summary, std::vector<Flag> flags);
    CommandLine(const CommandLine&) = delete; // setters point back into this object
    CommandLine& operator=(const CommandLine&) = delete;

    // A tool-specific switch (no value).
    void add_switch(char short_name, std::string long_name, std::string help, bool* target);
    // A tool-specific option with a value; the setter throws UsageError on a
    // bad value (use the parse_* helpers below).
    void add_option(char short_name, std::string long_name, std::string value_name,
                    std::string help, std::function<void(std::string_view)> setter);
    // An option whose value is a whole number from min to max, stored in
    // target (a usage error names the option and the range otherwise).
    template <class Number>
    void add_number(char short_name, std::string long_name, std::string value_name,
                    std::string help, Number* target, uint64_t min, uint64_t max) {
        std::string what = "--" + long_name;
        add_option(short_name, std::move(long_name), std::move(value_name), std::move(help),
                   [=](std::string_view v) {
                       *target = static_cast<Number>(parse_unsigned(what, v, min, max));
                   });
    }
    // An option whose value is text, not empty, stored in target.
    void add_text(char short_name, std::string long_name, std::string value_name, std::string help,
                  std::string* target);
    void set_examples(std::string examples) { examples_ = std::move(examples); }
    // -o takes svg too (a flame graph): for the tools that collect stacks
    // (common/stacks.h's add_stack_options calls it).
    void allow_svg();
    // A format of the command's own for -o, beside text and json (triage's
    // html): -o NAME selects it, and -o's help and its usage error name it.
    void add_output_format(std::string name, OutputFormat format);
    // One optional positional argument of the tool's own ("[name]" in the
    // usage line): the setter gets it after the options, and throws
    // UsageError on a bad value. With interval [count], it comes first
    // (funccount PATTERN [interval [count]]).
    void set_positional(std::string name, std::string help,
                        std::function<void(std::string_view)> setter);
    // Flags that cannot be given together, each named as the messages name
    // it ("-P", "--waits-only"): parse() throws UsageError("-P and -L cannot
    // be combined: WHY") when two of them are given. WHY may be empty.
    void exclusive(std::vector<std::string> flags, std::string why);
    // A flag that needs another: "-n needs -P: WHY" when it comes without.
    void needs(std::string flag, std::string needed, std::string why);
    // The two ends of a range, each an option's target: "invalid --min-size
    // 9: above --max-size 4" when the low end is above the high one.
    template <class Number>
    void ordered(std::string low_flag, const Number* low, std::string high_flag,
                 const Number* high) {
        ranges_.push_back([=] {
            if (*low > *high)
                throw_unordered(low_flag, static_cast<uint64_t>(*low), high_flag,
                                static_cast<uint64_t>(*high));
        });
    }

    // Parses argv. Returns exit_success after printing --help or --version.
    ParseResult parse(int argc, const char* const* argv, CommonOptions& options) const;
    std::string help() const;
    const std::vector<Flag>& flags() const { return flags_; }
    // One line per option, "-p<TAB>--pid<TAB>PID<TAB>help" (empty fields
    // stay empty), printed by the hidden --list-options; the shell
    // completions are generated from it at build time.
    std::string option_table() const;
    const std::string& tool() const { return tool_; }
    // The name in the usage line and --version: the program's as invoked,
    // once run_tool has set it, else the tool's.
    const std::string& shown_name() const;

  private:
    struct Option {
        char short_name;
        std::string long_name;
        std::string value_name; // empty for a switch
        std::string help;
        std::function<void(std::string_view)> apply;
    };
    const Option* find_short(char c) const;
    const Option* find_long(std::string_view name) const;
    // The option a rule names ("-P", "--per-thread"); throws logic_error for
    // a name the tool does not have (a rule misspelt: every parse fails).
    size_t option_index(std::string_view flag) const;
    void check_rules(const std::vector<bool>& given) const;
    [[noreturn]] static void throw_unordered(const std::string& low_flag, uint64_t low,
                                             const std::string& high_flag, uint64_t high);
    void add_common(const std::vector<Flag>& flags, CommonOptions** target);

    std::string tool_;
    std::string summary_;
    std::string examples_;
    bool takes_interval_ = false;
    struct Positional {
        std::string name, help;
        std::function<void(std::string_view)> apply;
    };
    std::optional<Positional> positional_;
    struct Rule {
        std::vector<std::string> flags; // exclusive; or needs: the flag, then the one it needs
        std::string why;
        bool needs = false;
    };
    std::vector<Rule> rules_;
    std::vector<std::function<void()>> ranges_; // ordered()
    std::vector<Option> options_;
    std::vector<Flag> flags_;                                         // the shared flags it takes
    std::vector<std::pair<std::string, OutputFormat>> extra_formats_; // add_output_format
    std::string format_names() const; // "text or json", "text, json or html"
    // Parsing writes into the CommonOptions given to parse(); the common
    // options' setters reach it through this pointer.
    mutable CommonOptions* current_ = nullptr;
};

// Value parsers shared by every tool; each throws UsageError("invalid WHAT 'TEXT'...").
// For tests/fuzz: when set, parse() returns exit_success right after a
// successful parse, so a tool's entry point stops before it touches the
// kernel and its whole command line can be fuzzed in-process.
void set_parse_only(bool parse_only);

uint64_t parse_unsigned(std::string_view what, std::string_view text, uint64_t min, uint64_t max);
uint32_t parse_pid(std::string_view what, std::string_view text);
double parse_seconds(std::string_view what, std::string_view text);
// A latency threshold: 0 to one hour, fractions allowed.
double parse_milliseconds(std::string_view what, std::string_view text);
// A user-space address as tools print them: 0x hex, or decimal; not 0.
uint64_t parse_address(std::string_view what, std::string_view text);
// A parsed threshold in whole nanoseconds, rounded to the nearest: ms
// from parse_milliseconds (0 to an hour). Not std::llround, which is the
// one call that would link libm.so: its pages add ~300 KiB to a tool's
// resident memory and its loading to start-up.
inline uint64_t milliseconds_to_ns(double ms) {
    return static_cast<uint64_t>(ms * 1e6 + 0.5);
}

} // namespace corescope
