// The stack printers of common/stacks.h: the classic multi-line form, the
// folded form, and JSON frames, on stacks made up here; the rows of a
// stack tool's table (common/stack_rows.h); and an event tool's stacks
// counted for -f and -o svg (common/event_stacks.h).
#include "stacks.h"

#include "event_stacks.h"
#include "flamegraph.h"
#include "made_stacks.h"
#include "stack_rows.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

namespace test_stacks {

using namespace corescope;
using made_stacks::named;
using made_stacks::present;

namespace {

StackRecord sample_record() {
    StackRecord record;
    record.pid = 4242;
    record.comm = "app";
    record.kernel = present({named(0xffffffff81001000, "do_syscall_64", "[kernel]"),
                             named(0xffffffff81000100, "entry_SYSCALL_64", "[kernel]")});
    record.user = present(
        {named(0x401000, "busy_loop", "/usr/bin/app"), named(0x400800, "main", "/usr/bin/app")});
    record.value = 17;
    return record;
}

} // namespace

TEST_CASE("multi-line stack: kernel, delimiter, user, who, count", "[stacks]") {
    std::string out;
    append_stack_multiline(out, sample_record());
    CHECK(out == "    do_syscall_64\n"
                 "    entry_SYSCALL_64\n"
                 "    --\n"
                 "    busy_loop\n"
                 "    main\n"
                 "    -                app (4242)\n"
                 "        17\n"
                 "\n");
}

TEST_CASE("multi-line stack: one half only, and missed stacks", "[stacks]") {
    StackRecord record = sample_record();
    SECTION("user only: no delimiter") {
        record.kernel = {};
        std::string out;
        append_stack_multiline(out, record);
        CHECK(out == "    busy_loop\n    main\n    -                app (4242)\n        17\n\n");
    }
    SECTION("a missed user stack is said so") {
        record.user.state = ResolvedStack::State::missed;
        record.user.frames.clear();
        std::string out;
        append_stack_multiline(out, record);
        CHECK(out.find("    --\n    [missed user stack]\n") != std::string::npos);
    }
    SECTION("unknown frames, hostile names are escaped") {
        record.comm = "evil\x1b[2J";
        record.user = present({Frame{0x10, {}}});
        std::string out;
        append_stack_multiline(out, record);
        CHECK(out.find("    [unknown]\n") != std::string::npos);
        CHECK(out.find("evil\\e[2J (4242)") != std::string::npos);
        CHECK(out.find('\x1b') == std::string::npos);
    }
}

TEST_CASE("folded stack: comm, user outermost first, then kernel, count", "[stacks]") {
    std::string out;
    append_stack_folded(out, sample_record());
    CHECK(out == "app;main;busy_loop;entry_SYSCALL_64_[k];do_syscall_64_[k] 17\n");

    StackRecord record = sample_record();
    record.kernel.state = ResolvedStack::State::missed;
    record.kernel.frames.clear();
    record.user.frames[0].symbol.name = "a;b";
    out.clear();
    append_stack_folded(out, record);
    CHECK(out == "app;main;a\\x3bb;[missed kernel stack] 17\n");
}

TEST_CASE("folded stack: the flame graph reads kernel frames back as kernel frames", "[stacks]") {
    // profile -f | corescope flamegraph colours as profile -o svg does.
    std::string out;
    append_stack_folded(out, sample_record());
    std::optional<FoldedStack> folded = parse_folded_line(out.substr(0, out.size() - 1));
    REQUIRE(folded);
    std::vector<std::pair<std::string, FrameKind>> frames;
    for (const FlameFrame& f : folded->frames)
        frames.emplace_back(f.name, f.kind);
    CHECK(frames ==
          std::vector<std::pair<std::string, FrameKind>>{{"app", FrameKind::process},
                                                         {"main", FrameKind::user},
                                                         {"busy_loop", FrameKind::user},
                                                         {"entry_SYSCALL_64", FrameKind::kernel},
                                                         {"do_syscall_64", FrameKind::kernel}});
    CHECK(folded->count == 17);
}

TEST_CASE("JSON frames: address, symbol, offset, module", "[stacks]") {
    ResolvedStack stack = present({named(0x401010, "busy_loop", "/usr/bin/app")});
    stack.frames[0].symbol.offset = 0x10;
    Frame unknown_in_module{0x7f0000001234, {}};
    unknown_in_module.symbol.module = "/lib/libx.so";
    unknown_in_module.symbol.module_offset = 0x1234;
    stack.frames.push_back(unknown_in_module);
    stack.frames.push_back(Frame{0x20, {}});

    auto frames = nlohmann::json::parse(stack_frames_json(stack));
    REQUIRE(frames.size() == 3);
    CHECK(frames[0]["address"] == 0x401010);
    CHECK(frames[0]["symbol"] == "busy_loop");
    CHECK(frames[0]["offset"] == 0x10);
    CHECK(frames[0]["module"] == "/usr/bin/app");
    CHECK(frames[1]["symbol"].is_null());
    CHECK(frames[1]["offset"] == 0x1234);
    CHECK(frames[1]["module"] == "/lib/libx.so");
    CHECK(frames[2]["module"].is_null());
    CHECK(nlohmann::json::parse(stack_frames_json(ResolvedStack{})).empty());
}

TEST_CASE("missed stacks are reported once, with what to do", "[stacks]") {
    Output out(-1);
    CommonOptions options;
    report_missed_stacks(3, 2, 1024, options, out);
    CHECK(out.buffer().empty()); // text: the warning on stderr says it
    options.format = OutputFormat::json;
    report_missed_stacks(0, 0, 1024, options, out);
    CHECK(out.buffer().empty());
    report_missed_stacks(3, 2, 1024, options, out);
    auto record = nlohmann::json::parse(out.buffer());
    CHECK(record["type"] == "missed_stacks");
    CHECK(record["collisions"] == 3);
    CHECK(record["map_full"] == 2);
    CHECK(record["stack_storage_size"] == 1024);
    out.buffer().clear();
}

TEST_CASE("a stack copied by the BPF program starts where the tracepoint was called", "[stacks]") {
    // Innermost first: two frames inside the probe, the frame that returns to
    // the call site (location), then its callers.
    std::vector<uint64_t> addresses = {0x10, 0x20, 0x30, 0x40, 0x50};
    ResolvedStack from_call_site = kernel_stack_from(addresses, 0x40, nullptr);
    CHECK(from_call_site.state == ResolvedStack::State::present);
    REQUIRE(from_call_site.frames.size() == 3);
    CHECK(from_call_site.frames[0].address == 0x30);
    CHECK(from_call_site.frames[2].address == 0x50);
    // Without the call site among them, every frame stays (no names to drop by).
    CHECK(kernel_stack_from(addresses, 0x99, nullptr).frames.size() == 5);
    // The call site innermost: nothing before it to drop.
    CHECK(kernel_stack_from(addresses, 0x10, nullptr).frames.size() == 5);
    CHECK(kernel_stack_from({}, 0x10, nullptr).state == ResolvedStack::State::missed);
}

TEST_CASE("a frame is named by its symbol and offset, or by its address", "[stacks]") {
    Frame named;
    named.address = 0xffffffff81000010;
    named.symbol.name = "mutex_lock";
    named.symbol.offset = 0x10;
    CHECK(frame_label(named) == "mutex_lock+0x10");
    Frame unnamed;
    unnamed.address = 0xffffffff81000010;
    CHECK(frame_label(unnamed) == "0xffffffff81000010");
}

TEST_CASE("stack forms: offsets, no process line, a leaf frame, no stack", "[stacks]") {
    StackRecord record = sample_record();
    record.user.frames[0].symbol.offset = 0x1a;
    std::string out;
    append_stack_multiline(out, record, {true, false, "[t:sched:sched_switch]"});
    CHECK(out == "    [t:sched:sched_switch]\n"
                 "    do_syscall_64\n"
                 "    entry_SYSCALL_64\n"
                 "    --\n"
                 "    busy_loop+0x1a\n"
                 "    main\n"
                 "        17\n"
                 "\n");
    out.clear();
    append_stack_folded(out, record, {true, false, "lock 0x10"});
    CHECK(out == "main;busy_loop+0x1a;entry_SYSCALL_64_[k];do_syscall_64_[k];lock 0x10 17\n");
    out.clear();
    append_stack_folded(out, record, {false, true, "a;b"});
    CHECK(out == "app;main;busy_loop;entry_SYSCALL_64_[k];do_syscall_64_[k];a\\x3bb 17\n");
    // Nothing to show: said so, never an empty line.
    out.clear();
    StackRecord nothing;
    nothing.value = 3;
    append_stack_folded(out, nothing, {false, false, ""});
    CHECK(out == "[no stack] 3\n");
    // The default forms are the plain functions'.
    std::string plain, formed;
    append_stack_multiline(plain, sample_record());
    append_stack_multiline(formed, sample_record(), StackForm{});
    CHECK(plain == formed);
}

TEST_CASE("stack states from IDs, and stacks told apart by their frames", "[stacks]") {
    CHECK(stack_state_of(0) == ResolvedStack::State::present);
    CHECK(stack_state_of(-EFAULT) == ResolvedStack::State::absent);
    CHECK(stack_state_of(-EEXIST) == ResolvedStack::State::missed);
    CHECK(stack_state_of(-ENOMEM) == ResolvedStack::State::missed);

    // No map (decoders): the states alone.
    StackRecord record;
    resolve_stacks(record, nullptr, 7, -EFAULT);
    CHECK(record.user.state == ResolvedStack::State::present);
    CHECK(record.user.frames.empty());
    CHECK(record.kernel.state == ResolvedStack::State::absent);

    // The same names in the same module are one stack, whatever the
    // addresses (two processes' mappings); unnamed frames by address.
    ResolvedStack a = present({named(0x401000, "busy_loop", "/usr/bin/app")});
    ResolvedStack b = present({named(0x555000, "busy_loop", "/usr/bin/app")});
    CHECK(stack_identity(a) == stack_identity(b));
    CHECK(stack_identity(a) != stack_identity(present({named(0x401000, "busy_loop", "/x")})));
    CHECK(stack_identity(present({Frame{0x10, {}}})) != stack_identity(present({Frame{0x20, {}}})));
    ResolvedStack missed;
    missed.state = ResolvedStack::State::missed;
    CHECK(stack_identity(missed) != stack_identity(present({})));
}

TEST_CASE("what was missed since the last print: increases only", "[stacks]") {
    Output out(-1);
    CommonOptions options;
    options.format = OutputFormat::json;
    MissedSinceLastPrint missed(options, out, 512, false);
    Symbolizer symbolizer;
    missed.stacks(symbolizer, 2, 1);
    auto first = nlohmann::json::parse(out.buffer());
    CHECK(first["collisions"] == 2);
    CHECK(first["map_full"] == 1);
    out.buffer().clear();
    missed.stacks(symbolizer, 2, 1); // nothing new: nothing said
    CHECK(out.buffer().empty());
    missed.stacks(symbolizer, 5, 1);
    auto second = nlohmann::json::parse(out.buffer());
    CHECK(second["collisions"] == 3);
    CHECK(second["map_full"] == 0);
    out.buffer().clear();

    CHECK(missed.dropped(0) == 0);
    CHECK(missed.dropped(10) == 10);
    CHECK(missed.dropped(10) == 0);
    CHECK(missed.dropped(25) == 15);
}

TEST_CASE("stack printer: a tool's text columns make a table, JSON keeps its keys and stacks",
          "[stacks]") {
    StackOptions stacks;
    std::vector<Field> fields = {text_column("CALLER", 12),
                                 column("count", "COUNT", 6, Align::right), json_field("caller"),
                                 text_column("NOTE", 0)};
    std::vector<StackRecord> records(2, sample_record());
    records[1].value = 3;
    records[1].comm = "small";
    auto fill = [](const StackRecord& record, Record& r) {
        r.text(record.comm).number(record.value).text(record.comm).text("last");
    };
    auto below = [](std::string& out, const StackRecord& record) {
        out += "  under " + record.comm + "\n";
    };
    CommonOptions options;
    SECTION("text: the header, then the rows, the largest last, each with its lines below") {
        Output out(-1);
        StackPrinter printer(options, stacks, out, fields);
        printer.print(records, fill, below);
        CHECK(out.buffer() == "CALLER        COUNT NOTE\n"
                              "small             3 last\n"
                              "  under small\n"
                              "app              17 last\n"
                              "  under app\n");
        // -T's time is a heading of the tool's, not a column.
        options.time = true;
        out.buffer().clear();
        StackPrinter timed(options, stacks, out, fields);
        timed.print(records, fill);
        CHECK(out.buffer().starts_with("CALLER        COUNT NOTE\n"));
    }
    SECTION("JSON: one record a row, the largest first, with both stacks; no header") {
        options.format = OutputFormat::json;
        Output out(-1);
        StackPrinter printer(options, stacks, out, fields);
        printer.print(records, fill, below);
        std::string first = out.buffer().substr(0, out.buffer().find('\n'));
        auto j = nlohmann::json::parse(first);
        CHECK(j["type"] == "stack");
        CHECK(j["count"] == 17);
        CHECK(j["caller"] == "app");
        CHECK(j["kernel_stack"].size() == 2);
        CHECK_FALSE(j.contains("note"));
        CHECK(out.buffer().find("under") == std::string::npos);
    }
    SECTION("fields without text columns: the classic form as before") {
        Output out(-1);
        StackPrinter printer(options, stacks, out, {json_field("count")});
        printer.print(records,
                      [](const StackRecord& record, Record& r) { r.number(record.value); });
        std::string classic;
        append_stack_multiline(classic, records[1]);
        append_stack_multiline(classic, records[0]);
        CHECK(out.buffer() == classic);
    }
}

TEST_CASE("stack rows: records and their items sorted together, cut, filled", "[stacks]") {
    struct Item {
        int key;
        std::string name;
    };
    StackRows<Item> rows;
    for (auto [value, key] : {std::pair{5, 3}, {9, 1}, {5, 1}, {2, 7}, {9, 0}}) {
        StackRecord record;
        record.value = static_cast<uint64_t>(value);
        rows.add(std::move(record), Item{key, "item " + std::to_string(key)});
    }
    // The largest value first; equal values by key; the top four.
    rows.sort([](const Item& a, const Item& b) { return a.key < b.key; }, 4);
    std::vector<std::pair<uint64_t, int>> order;
    for (const StackRecord& record : rows.records())
        order.push_back({record.value, rows.of(record).key});
    CHECK(order == std::vector<std::pair<uint64_t, int>>{{9, 0}, {9, 1}, {5, 1}, {5, 3}});
    rows.fill([](StackRecord& record, const Item& item) { record.comm = item.name; });
    CHECK(rows.records()[0].comm == "item 0");
    CHECK(rows.records()[3].comm == "item 3");
    CHECK(rows.of(rows.records()[2]).name == "item 1");
    // keep 0: every row.
    rows.sort([](const Item& a, const Item& b) { return a.key > b.key; });
    CHECK(rows.records().size() == 4);
    CHECK(rows.of(rows.records()[1]).key == 0);
}

TEST_CASE("an event's stack under its line: names, else addresses, then a blank line", "[stacks]") {
    ResolvedStack stack = present({named(0xffffffff81001010, "nf_hook_slow", "[kernel]"), {}});
    stack.frames[0].symbol.offset = 0x10; // not shown
    stack.frames[1].address = 0xffffffff81fb4bdf;
    std::string out;
    append_event_stack(out, stack, "kernel");
    CHECK(out == "    nf_hook_slow\n    0xffffffff81fb4bdf\n\n");
    ResolvedStack missed;
    missed.state = ResolvedStack::State::missed;
    out.clear();
    append_event_stack(out, missed, "kernel");
    CHECK(out == "    [missed kernel stack]\n\n");
    out.clear();
    append_event_stack(out, present({}), "kernel");
    CHECK(out == "\n");
}

namespace {

// A made-up kallsyms: the drop's functions, innermost (highest) last.
struct MadeKallsyms {
    std::string path = "/tmp/corescope-event-stacks-" + std::to_string(getpid());
    MadeKallsyms() {
        std::ofstream(path) << "ffffffff81000000 T entry_SYSCALL_64\n"
                               "ffffffff81001000 T __sys_connect\n"
                               "ffffffff81002000 T nf_hook_slow\n"
                               "ffffffff81003000 T tcp_v6_rcv\n"
                               "ffffffff81004000 T kfree_skb_reason\n"
                               "ffffffff81005000 T bpf_trace_run4\n";
    }
    ~MadeKallsyms() { std::remove(path.c_str()); }
};

std::string printed(const EventStackCounts& counts, CommonOptions& options, StackOptions& stacks,
                    Symbolizer* symbolizer) {
    Output out(-1);
    counts.print(options, stacks, out, symbolizer);
    return out.buffer();
}

} // namespace

TEST_CASE("event stacks: counted by root and stack, named at the end, the most first", "[stacks]") {
    MadeKallsyms kallsyms;
    Symbolizer symbolizer;
    symbolizer.set_kallsyms_path(kallsyms.path);
    // Innermost first: the probe's frame, the drop (location returns into
    // nf_hook_slow), then its callers.
    const std::vector<uint64_t> filtered = {0xffffffff81005010, 0xffffffff81004020,
                                            0xffffffff81002030, 0xffffffff81001040,
                                            0xffffffff81000050};
    // The same path through another call site of nf_hook_slow: one frame
    // once named, so one line.
    const std::vector<uint64_t> filtered_elsewhere = {0xffffffff81005010, 0xffffffff81004020,
                                                      0xffffffff81002090, 0xffffffff81001040,
                                                      0xffffffff81000050};
    const std::vector<uint64_t> refused = {0xffffffff81005010, 0xffffffff81004020,
                                           0xffffffff81003030};
    EventStackCounts counts(true);
    for (int i = 0; i < 2; i++)
        counts.add("NETFILTER_DROP", filtered, 0xffffffff81002030);
    counts.add("NETFILTER_DROP", filtered_elsewhere, 0xffffffff81002090);
    for (int i = 0; i < 3; i++)
        counts.add("NO_SOCKET", refused, 0xffffffff81003030);
    counts.add("NO_SOCKET", {}, 0); // no stack came: missed

    std::vector<StackRecord> records = counts.records(&symbolizer);
    REQUIRE(records.size() == 3);
    CHECK(records[0].comm == "NETFILTER_DROP");
    CHECK(records[0].value == 3);
    CHECK(records[0].user.state == ResolvedStack::State::absent);
    CHECK(records[1].comm == "NO_SOCKET");
    CHECK(records[1].value == 3);
    CHECK(records[2].value == 1);

    CommonOptions options;
    StackOptions stacks{.count_name = "drops"};
    options.format = OutputFormat::text;
    stacks.folded = true;
    // The probe's frames go: each stack starts at the function that freed
    // the packet.
    CHECK(printed(counts, options, stacks, &symbolizer) ==
          "NETFILTER_DROP;entry_SYSCALL_64_[k];__sys_connect_[k];nf_hook_slow_[k];"
          "kfree_skb_reason_[k] 3\n"
          "NO_SOCKET;tcp_v6_rcv_[k];kfree_skb_reason_[k] 3\n"
          "NO_SOCKET;[missed kernel stack] 1\n");
    // Unnamed (a decoder): [unknown], as the stack tools' folded form has
    // it, and so merged where the depths agree.
    CHECK(printed(counts, options, stacks, nullptr) ==
          "NETFILTER_DROP;[unknown]_[k];[unknown]_[k];[unknown]_[k];[unknown]_[k] 3\n"
          "NO_SOCKET;[unknown]_[k];[unknown]_[k] 3\n"
          "NO_SOCKET;[missed kernel stack] 1\n");

    // -o svg: the roots as the graph's first frames, kernel frames as
    // kernel, widths in drops.
    options.format = OutputFormat::svg;
    options.invocation = "tcpdrop -o svg";
    std::string svg = printed(counts, options, stacks, &symbolizer);
    CHECK(svg.find("<title>tcpdrop -o svg</title>") != std::string::npos);
    CHECK(svg.find("class=\"f p\" data-s=\"0\" data-c=\"3\" data-d=\"1\"><title>NETFILTER_DROP "
                   "(3 drops, ") != std::string::npos);
    CHECK(svg.find("data-c=\"4\" data-d=\"1\"><title>NO_SOCKET (4 drops, ") != std::string::npos);
    CHECK(svg.find("class=\"f k\" data-s=\"0\" data-c=\"3\" data-d=\"4\"><title>nf_hook_slow (3 "
                   "drops, ") != std::string::npos);
}

TEST_CASE("event stacks: without stacks, the roots alone; -f and -o svg's rules", "[stacks]") {
    EventStackCounts counts(false);
    const std::vector<uint64_t> stack = {0xffffffff81004020, 0xffffffff81002030};
    counts.add("NETFILTER_DROP", stack, 0xffffffff81002030);
    counts.add("NO_SOCKET", stack, 0x1);
    counts.add("NETFILTER_DROP", {}, 0);
    CommonOptions options;
    StackOptions stacks;
    stacks.folded = true;
    CHECK(printed(counts, options, stacks, nullptr) == "NETFILTER_DROP 2\nNO_SOCKET 1\n");

    StackOptions none;
    check_event_stack_options(none, options);
    CHECK_FALSE(none.folded);
    check_event_stack_options(stacks, options);
    CHECK(stacks.folded);
    options.format = OutputFormat::svg;
    StackOptions svg;
    check_event_stack_options(svg, options);
    CHECK(svg.folded); // the graph is drawn from the folded form
    CHECK_THROWS_AS(check_event_stack_options(stacks, options), UsageError); // -f -o svg
    options.format = OutputFormat::json;
    CHECK_THROWS_AS(check_event_stack_options(stacks, options), UsageError);
    options.format = OutputFormat::text;
    options.print_uid = true;
    CHECK_THROWS_WITH(check_event_stack_options(stacks, options),
                      Catch::Matchers::Contains("-U does not apply"));
    CHECK_NOTHROW(check_event_stack_options(none, options)); // -U with a line a drop: fine
}

} // namespace test_stacks
