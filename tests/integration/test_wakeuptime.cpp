// wakeuptime against a child of this test whose waker thread wakes its
// target thread through a pipe ten times, each after a 50 ms sleep, both
// threads with names no other program has.
#include "harness.h"
#include "json_lines.h"
#include "wakeup_workload.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace test_wakeuptime {

using namespace itest;
using nlohmann::json;

namespace {

// The target's blocked time the waker ended, as a JSON run saw it.
Sum woken_json(const std::vector<json>& records, const WakeupChild& child) {
    Sum sum;
    for (const json& r : records) {
        if (r.at("type") != "stack" || r.at("target_tid") != child.target_tid() ||
            r.at("waker_comm") != child.waker_comm)
            continue;
        CHECK(r.at("target_pid") == child.pid());
        CHECK(r.at("target_comm") == child.target_comm);
        CHECK(r.at("waker_pid") == child.pid());
        CHECK(r.at("waker_tid") == child.waker_tid());
        sum.us += r.at("total_us").get<uint64_t>();
        sum.count += r.at("count").get<uint64_t>();
        sum.stacks++;
    }
    return sum;
}

// Folded lines: TARGET;waker frames innermost first;WAKER USECS.
Sum woken_folded(const std::string& out, const WakeupChild& child) {
    Sum sum;
    for (const std::string& line : lines(out)) {
        size_t space = line.rfind(' ');
        REQUIRE(space != std::string::npos);
        std::string stack = line.substr(0, space);
        if (!stack.starts_with(child.target_comm + ";") || !stack.ends_with(";" + child.waker_comm))
            continue;
        // Innermost first: the wake-up, the pipe write, then the caller.
        size_t pipe_write = stack.find("pipe_write");
        size_t writer = stack.find(wakeup_test_write);
        CHECK(pipe_write != std::string::npos);
        CHECK(writer != std::string::npos);
        CHECK(pipe_write < writer);
        sum.us += std::stoull(line.substr(space + 1));
        sum.stacks++;
    }
    return sum;
}

// Classic text: "target: COMM (TID)", the waker's frames, "waker: COMM
// (TID)", the microseconds, a blank line.
Sum woken_text(const std::string& out, const WakeupChild& child) {
    Sum sum;
    std::vector<std::string> block;
    std::string target_line =
        " " + child.target_comm + " (" + std::to_string(child.target_tid()) + ")";
    std::string waker_line =
        " " + child.waker_comm + " (" + std::to_string(child.waker_tid()) + ")";
    auto end_block = [&] {
        if (block.size() >= 3 && block.front().find("target:") != std::string::npos &&
            block.front().ends_with(target_line) &&
            block[block.size() - 2].find("waker:") != std::string::npos &&
            block[block.size() - 2].ends_with(waker_line)) {
            bool writer = false;
            for (const std::string& line : block)
                writer = writer || line.find(wakeup_test_write) != std::string::npos;
            CHECK(writer);
            sum.us += std::stoull(block.back());
            sum.stacks++;
        }
        block.clear();
    };
    for (const std::string& line : lines(out)) {
        if (line.empty())
            end_block();
        else
            block.push_back(line);
    }
    end_block();
    return sum;
}

} // namespace

TEST_CASE("wakeuptime -p sums a thread's blocked time by its waker's stack, in every format",
          "[wakeuptime]") {
    REQUIRE_BPF();
    WakeupChild child(unique_comm("wkt-t"), unique_comm("wkt-w"));
    REQUIRE(child.waker_tid() > 0);
    std::string pid = std::to_string(child.pid());
    auto tool = [&](std::vector<std::string> extra) {
        std::vector<std::string> argv{tool_path("wakeuptime")};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return std::make_unique<ToolProcess>(argv);
    };
    auto text = tool({"-p", pid});
    auto folded = tool({"-p", pid, "-f"});
    auto jsonl = tool({"-p", pid, "-o", "json"});
    // Filters, each from one side: blocks longer than every sleep, the
    // woken thread by -t and by name, another process, kernel stacks only.
    auto above = tool({"-p", pid, "-o", "json", "--min-block", "100000"});
    auto by_tid =
        tool({"-t", std::to_string(child.target_tid()), "-o", "json", "--kernel-stacks-only"});
    auto other = tool({"-p", std::to_string(getpid()), "-o", "json"});
    auto below = tool({"-p", pid, "-o", "json", "--max-block", "20000"});
    auto kernel_threads = tool({"-p", pid, "-o", "json", "--kernel-threads-only"});
    // User threads, user stacks, three frames: the waker's write is the
    // second innermost.
    auto user = tool({"-p", pid, "-o", "json", "--user-threads-only", "--user-stacks-only",
                      "--perf-max-stack-depth", "3"});
    auto one_stack = tool({"-p", pid, "-o", "json", "--stack-storage-size", "1"});
    for (auto* p : {text.get(), folded.get(), jsonl.get(), above.get(), by_tid.get(), other.get(),
                    below.get(), kernel_threads.get(), user.get(), one_stack.get()})
        REQUIRE(p->wait_attached());
    std::set<unsigned> held = bpf_programs_held_by(jsonl->pid());
    CHECK(!held.empty());
    child.wake_through();

    auto finish = [](std::unique_ptr<ToolProcess>& p) {
        Finished r = p->stop();
        CHECK(r.exit_code == 0);
        INFO(r.err);
        return r;
    };
    Finished j = finish(jsonl);
    Finished t = finish(text);
    Finished f = finish(folded);
    INFO("text:\n" << t.out << "\nfolded:\n" << f.out << "\njson:\n" << j.out);

    std::vector<json> records = json_lines(j.out);
    Sum from_json = woken_json(records, child);
    check_wakes(from_json, child.took_s);
    for (const json& r : records) {
        if (r.at("type") != "stack" || r.at("target_tid") != child.target_tid() ||
            r.at("waker_comm") != child.waker_comm)
            continue;
        // The waker's stacks where it woke the target: its write through the pipe.
        CHECK(has_frame_containing(r.at("user_stack"), wakeup_test_write));
        CHECK(has_frame_containing(r.at("kernel_stack"), "pipe_write"));
        CHECK(has_frame_containing(r.at("kernel_stack"), "try_to_wake_up"));
        CHECK(
            !has_frame_containing(r.at("kernel_stack"), "bpf_")); // the probe's frames are dropped
    }
    check_same_time(woken_folded(f.out, child), from_json);
    check_same_time(woken_text(t.out, child), from_json);

    Finished a = finish(above);
    CHECK(woken_json(json_lines(a.out), child).stacks == 0);
    Finished b = finish(by_tid);
    std::vector<json> tid_records = json_lines(b.out);
    check_wakes(woken_json(tid_records, child), child.took_s);
    for (const json& r : tid_records) {
        if (r.at("type") != "stack") continue;
        CHECK(r.at("target_tid") == child.target_tid());
        CHECK(r.at("user_stack").empty());
    }
    Finished o = finish(other);
    for (const json& r : json_lines(o.out))
        if (r.at("type") == "stack") CHECK(r.at("target_pid") == getpid());

    CHECK(woken_json(json_lines(finish(below).out), child).stacks == 0);
    CHECK(woken_json(json_lines(finish(kernel_threads).out), child).stacks == 0);
    std::vector<json> user_records = json_lines(finish(user).out);
    check_wakes(woken_json(user_records, child), child.took_s);
    for (const json& r : user_records) {
        if (r.at("type") != "stack") continue;
        CHECK(r.at("kernel_stack").empty());
        CHECK(r.at("user_stack").size() <= 3);
        if (r.at("waker_comm") == child.waker_comm && r.at("target_tid") == child.target_tid())
            CHECK(has_frame_containing(r.at("user_stack"), wakeup_test_write));
    }
    // The waker's two stacks, room for one: it says what it could not keep.
    Finished one = finish(one_stack);
    CHECK(one.err.find("stacks were not recorded") != std::string::npos);
    CHECK(one.err.find("--stack-storage-size (now 1)") != std::string::npos);
    CHECK(j.err.empty());

    CHECK(programs_still_loaded(held).empty());
}

TEST_CASE("wakeuptime rejects bad flags with exit 2, naming the value", "[wakeuptime]") {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--min-block", "-5"}, "'-5'"},
        {{"--max-block", "ten"}, "'ten'"},
        {{"--min-block", "500", "--max-block", "100"}, "--min-block 500"},
        {{"--stack-storage-size", "0"}, "'0'"},
        {{"--user-stacks-only", "--kernel-stacks-only"}, "--kernel-stacks-only"},
        {{"--user-threads-only", "--kernel-threads-only"}, "--kernel-threads-only"},
        {{"-f", "-o", "json"}, "-f"},
    };
    for (const auto& [args, named] : cases) {
        std::vector<std::string> argv{tool_path("wakeuptime")};
        argv.insert(argv.end(), args.begin(), args.end());
        Finished r = run(argv);
        INFO(args[0] << ": " << r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find(named) != std::string::npos);
        CHECK(r.out.empty());
    }
}

} // namespace test_wakeuptime
