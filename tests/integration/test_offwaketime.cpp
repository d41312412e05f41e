// offwaketime against a child of this test whose target thread blocks
// reading a pipe and whose waker thread writes to it ten times, each after a
// 50 ms sleep, both threads with names no other program has.
#include "harness.h"
#include "json_lines.h"
#include "wakeup_workload.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace test_offwaketime {

using namespace itest;
using nlohmann::json;

namespace {

// The target's time off CPU in its read, woken by the waker, in JSON.
Sum woken_json(const std::vector<json>& records, const WakeupChild& child) {
    Sum sum;
    for (const json& r : records) {
        if (r.at("type") != "stack" || r.at("tid") != child.target_tid() ||
            r.at("waker_comm") != child.waker_comm)
            continue;
        CHECK(r.at("pid") == child.pid());
        CHECK(r.at("comm") == child.target_comm);
        CHECK(r.at("waker_pid") == child.pid());
        CHECK(r.at("waker_tid") == child.waker_tid());
        sum.us += r.at("total_us").get<uint64_t>();
        sum.count += r.at("count").get<uint64_t>();
        sum.stacks++;
    }
    return sum;
}

// Folded: TARGET;its frames outermost first;--;the waker's innermost
// first;WAKER USECS.
Sum woken_folded(const std::string& out, const WakeupChild& child) {
    Sum sum;
    for (const std::string& line : lines(out)) {
        size_t space = line.rfind(' ');
        REQUIRE(space != std::string::npos);
        std::string stack = line.substr(0, space);
        if (!stack.starts_with(child.target_comm + ";") || !stack.ends_with(";" + child.waker_comm))
            continue;
        size_t reader = stack.find(wakeup_test_read);
        size_t split = stack.find(";--;");
        size_t pipe_write = stack.find("pipe_write");
        size_t writer = stack.find(wakeup_test_write);
        CHECK(reader != std::string::npos);
        CHECK(split != std::string::npos);
        CHECK(pipe_write != std::string::npos);
        CHECK(writer != std::string::npos);
        CHECK(reader < split);
        CHECK(split < pipe_write);
        CHECK(pipe_write < writer);
        sum.us += std::stoull(line.substr(space + 1));
        sum.stacks++;
    }
    return sum;
}

// Classic text: "waker: COMM (TID)", its frames outermost first, "--", the
// target's frames innermost first, "target: COMM (TID)", the microseconds.
Sum woken_text(const std::string& out, const WakeupChild& child) {
    Sum sum;
    std::vector<std::string> block;
    std::string waker_line =
        " " + child.waker_comm + " (" + std::to_string(child.waker_tid()) + ")";
    std::string target_line =
        " " + child.target_comm + " (" + std::to_string(child.target_tid()) + ")";
    auto end_block = [&] {
        if (block.size() >= 4 && block.front().find("waker:") != std::string::npos &&
            block.front().ends_with(waker_line) &&
            block[block.size() - 2].find("target:") != std::string::npos &&
            block[block.size() - 2].ends_with(target_line)) {
            auto at = [&](const std::string& what) {
                for (size_t i = 0; i < block.size(); i++)
                    if (block[i].find(what) != std::string::npos) return i;
                return block.size();
            };
            // The waker from its outermost frame to the wake-up, then the
            // target from where it blocked out.
            CHECK(at(wakeup_test_write) < at("pipe_write"));
            CHECK(at("pipe_write") < at("    --"));
            CHECK(at("    --") < at(wakeup_test_read));
            CHECK(at(wakeup_test_read) < block.size());
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

TEST_CASE("offwaketime -p joins a thread's blocked stack with its waker's, in every format",
          "[offwaketime]") {
    REQUIRE_BPF();
    WakeupChild child(unique_comm("owt-t"), unique_comm("owt-w"));
    REQUIRE(child.waker_tid() > 0);
    std::string pid = std::to_string(child.pid());
    auto tool = [&](std::vector<std::string> extra) {
        std::vector<std::string> argv{tool_path("offwaketime")};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return std::make_unique<ToolProcess>(argv);
    };
    auto text = tool({"-p", pid});
    auto folded = tool({"-p", pid, "-f"});
    auto jsonl = tool({"-p", pid, "-o", "json"});
    auto above = tool({"-p", pid, "-o", "json", "--min-block", "100000"});
    auto below = tool({"-p", pid, "-o", "json", "--max-block", "20000"});
    auto by_tid =
        tool({"-t", std::to_string(child.target_tid()), "-o", "json", "--kernel-stacks-only"});
    auto other = tool({"-p", std::to_string(getpid()), "-o", "json"});
    auto kernel_threads = tool({"-p", pid, "-o", "json", "--kernel-threads-only"});
    // User threads, user stacks, three frames: the read and the write are
    // the second innermost of each.
    auto user = tool({"-p", pid, "-o", "json", "--user-threads-only", "--user-stacks-only",
                      "--perf-max-stack-depth", "3"});
    auto one_stack = tool({"-p", pid, "-o", "json", "--stack-storage-size", "1"});
    for (auto* p : {text.get(), folded.get(), jsonl.get(), above.get(), below.get(), by_tid.get(),
                    other.get(), kernel_threads.get(), user.get(), one_stack.get()})
        REQUIRE(p->wait_attached());
    std::set<unsigned> held = bpf_programs_held_by(jsonl->pid());
    CHECK(!held.empty());
    child.wake_through();

    auto finish = [](std::unique_ptr<ToolProcess>& p) {
        Finished r = p->stop();
        CHECK(r.exit_code == 0);
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
        if (r.at("type") != "stack" || r.at("tid") != child.target_tid() ||
            r.at("waker_comm") != child.waker_comm)
            continue;
        // Where the target blocked: its read of the pipe.
        CHECK(has_frame_containing(r.at("user_stack"), wakeup_test_read));
        CHECK(has_frame_containing(r.at("kernel_stack"), "pipe_read"));
        // Where the waker woke it: its write through the pipe.
        CHECK(has_frame_containing(r.at("waker_user_stack"), wakeup_test_write));
        CHECK(has_frame_containing(r.at("waker_kernel_stack"), "pipe_write"));
        CHECK(!has_frame_containing(r.at("waker_kernel_stack"), "bpf_"));
        CHECK(!has_frame_containing(r.at("kernel_stack"), "bpf_"));
    }
    check_same_time(woken_folded(f.out, child), from_json);
    check_same_time(woken_text(t.out, child), from_json);
    CHECK(j.err.empty());

    CHECK(woken_json(json_lines(finish(above).out), child).stacks == 0);
    CHECK(woken_json(json_lines(finish(below).out), child).stacks == 0);
    std::vector<json> tid_records = json_lines(finish(by_tid).out);
    check_wakes(woken_json(tid_records, child), child.took_s);
    for (const json& r : tid_records) {
        if (r.at("type") != "stack") continue;
        CHECK(r.at("tid") == child.target_tid());
        CHECK(r.at("user_stack").empty());
        CHECK(r.at("waker_user_stack").empty());
    }
    for (const json& r : json_lines(finish(other).out))
        if (r.at("type") == "stack") CHECK(r.at("pid") == getpid());
    CHECK(woken_json(json_lines(finish(kernel_threads).out), child).stacks == 0);
    std::vector<json> user_records = json_lines(finish(user).out);
    check_wakes(woken_json(user_records, child), child.took_s);
    for (const json& r : user_records) {
        if (r.at("type") != "stack") continue;
        CHECK(r.at("kernel_stack").empty());
        CHECK(r.at("waker_kernel_stack").empty());
        CHECK(r.at("user_stack").size() <= 3);
        CHECK(r.at("waker_user_stack").size() <= 3);
        if (r.at("waker_comm") == child.waker_comm && r.at("tid") == child.target_tid()) {
            CHECK(has_frame_containing(r.at("user_stack"), wakeup_test_read));
            CHECK(has_frame_containing(r.at("waker_user_stack"), wakeup_test_write));
        }
    }
    Finished one = finish(one_stack);
    CHECK(one.err.find("stacks were not recorded") != std::string::npos);
    CHECK(one.err.find("--stack-storage-size (now 1)") != std::string::npos);

    CHECK(programs_still_loaded(held).empty());
}

TEST_CASE("offwaketime rejects bad flags with exit 2, naming the value", "[offwaketime]") {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--min-block", "-5"}, "'-5'"},
        {{"--max-block", "ten"}, "'ten'"},
        {{"--min-block", "500", "--max-block", "100"}, "--min-block 500"},
        {{"--perf-max-stack-depth", "1000"}, "'1000'"},
        {{"--user-stacks-only", "--kernel-stacks-only"}, "--kernel-stacks-only"},
        {{"--user-threads-only", "--kernel-threads-only"}, "--kernel-threads-only"},
        {{"-f", "-o", "json"}, "-f"},
    };
    for (const auto& [args, named] : cases) {
        std::vector<std::string> argv{tool_path("offwaketime")};
        argv.insert(argv.end(), args.begin(), args.end());
        Finished r = run(argv);
        INFO(args[0] << ": " << r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find(named) != std::string::npos);
        CHECK(r.out.empty());
    }
}

} // namespace test_offwaketime
