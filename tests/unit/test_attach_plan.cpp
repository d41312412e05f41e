// Attach plans (common/attach_plan.h) chosen against made-up kernels.
#include "attach_plan.h"
#include "file_rw.h"
#include "errors.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>
#include <unistd.h>

namespace test_attach_plan {

using namespace corescope;
using Catch::Matchers::Contains;
using json = nlohmann::json;

namespace {

// A kernel described by what it supports and which targets it has.
class FakeKernel : public FeatureSource {
  public:
    std::set<AttachKind> supported;
    std::set<std::string> targets;

    bool supports(AttachKind kind, std::string* why_not) override {
        if (supported.count(kind)) return true;
        if (why_not) *why_not = std::string("fake kernel lacks ") + attach_kind_name(kind);
        return false;
    }
    bool has_target(AttachKind, const std::string& target) override {
        return targets.count(target) != 0;
    }
};

FakeKernel everything() {
    FakeKernel k;
    k.supported = {AttachKind::tp_btf,   AttachKind::raw_tp, AttachKind::tracepoint,
                   AttachKind::fentry,   AttachKind::fexit,  AttachKind::kprobe,
                   AttachKind::kretprobe};
    k.targets = {"sched_process_exec",
                 "sched:sched_process_exec",
                 "syscalls:sys_enter_openat",
                 "syscalls:sys_enter_openat2",
                 "syscalls:sys_exit_openat",
                 "syscalls:sys_exit_openat2",
                 "do_sys_openat2",
                 "vfs_read"};
    return k;
}

// exec: tp_btf > raw_tp > tracepoint, one point each.
AttachStep exec_step() {
    return {"process exec",
            {
                {{{"exec_btf", AttachKind::tp_btf, "sched_process_exec"}}},
                {{{"exec_raw", AttachKind::raw_tp, "sched_process_exec"}}},
                {{{"exec_tp", AttachKind::tracepoint, "sched:sched_process_exec"}}},
            }};
}

// open: fentry on do_sys_openat2, else tracepoints for openat and (when the
// kernel has it) openat2.
AttachStep open_step() {
    return {"open entry",
            {
                {{{"open_fentry", AttachKind::fentry, "do_sys_openat2"}}},
                {{{"openat_tp", AttachKind::tracepoint, "syscalls:sys_enter_openat"},
                  {"openat2_tp", AttachKind::tracepoint, "syscalls:sys_enter_openat2", true}}},
            }};
}

std::string error_of(const std::vector<AttachStep>& steps, FeatureSource& kernel) {
    try {
        AttachPlan::choose("tool", steps, kernel);
    } catch (const RuntimeError& e) {
        CHECK(e.exit_code() == exit_runtime_error);
        return e.what();
    }
    FAIL_CHECK("choose() found a way where there is none");
    return {};
}

} // namespace

TEST_CASE("attach plan: the first supported way wins", "[attach_plan]") {
    FakeKernel kernel = everything();
    AttachPlan plan = AttachPlan::choose("execsnoop", {exec_step()}, kernel);
    REQUIRE(plan.choices().size() == 1);
    const AttachPlan::Choice& c = plan.choices()[0];
    CHECK(c.what == "process exec");
    REQUIRE(c.points.size() == 1);
    CHECK(c.points[0].program == "exec_btf");
    CHECK(c.points[0].kind == AttachKind::tp_btf);
    CHECK(c.points[0].target == "sched_process_exec");
    CHECK(c.passed_over.empty());
}

TEST_CASE("attach plan: a way whose kind is unsupported is passed over with its reason",
          "[attach_plan]") {
    FakeKernel kernel = everything();
    kernel.supported.erase(AttachKind::tp_btf);
    AttachPlan plan = AttachPlan::choose("execsnoop", {exec_step()}, kernel);
    const AttachPlan::Choice& c = plan.choices().at(0);
    REQUIRE(c.points.size() == 1);
    CHECK(c.points[0].program == "exec_raw");
    REQUIRE(c.passed_over.size() == 1);
    CHECK_THAT(c.passed_over[0], Contains("tp_btf"));
    CHECK_THAT(c.passed_over[0], Contains("fake kernel lacks tp_btf"));

    kernel.supported.erase(AttachKind::raw_tp);
    AttachPlan fallback = AttachPlan::choose("execsnoop", {exec_step()}, kernel);
    const AttachPlan::Choice& f = fallback.choices().at(0);
    REQUIRE(f.points.size() == 1);
    CHECK(f.points[0].program == "exec_tp");
    REQUIRE(f.passed_over.size() == 2); // in order of preference
    CHECK_THAT(f.passed_over[0], Contains("fake kernel lacks tp_btf"));
    CHECK_THAT(f.passed_over[1], Contains("fake kernel lacks raw_tp"));
}

TEST_CASE("attach plan: a way is out when any of its points' kinds is unsupported",
          "[attach_plan]") {
    FakeKernel kernel = everything();
    kernel.supported.erase(AttachKind::kretprobe);
    AttachStep step{"read",
                    {
                        {{{"read_entry", AttachKind::kprobe, "vfs_read"},
                          {"read_return", AttachKind::kretprobe, "vfs_read"}}},
                        {{{"read_fentry", AttachKind::fentry, "vfs_read"},
                          {"read_fexit", AttachKind::fexit, "vfs_read"}}},
                    }};
    AttachPlan plan = AttachPlan::choose("readlat", {step}, kernel);
    const AttachPlan::Choice& c = plan.choices().at(0);
    REQUIRE(c.points.size() == 2);
    CHECK(c.points[0].program == "read_fentry");
    CHECK(c.points[1].program == "read_fexit");
    REQUIRE(c.passed_over.size() == 1);
    CHECK_THAT(c.passed_over[0], Contains("kretprobe"));
    CHECK_FALSE(plan.uses("read_entry")); // half a way is never used
}

TEST_CASE("attach plan: absent optional points are dropped, the way still chosen",
          "[attach_plan]") {
    FakeKernel kernel = everything();
    kernel.supported.erase(AttachKind::fentry);
    kernel.targets.erase("syscalls:sys_enter_openat2"); // a kernel before 5.6
    AttachPlan plan = AttachPlan::choose("opensnoop", {open_step()}, kernel);
    const AttachPlan::Choice& c = plan.choices().at(0);
    REQUIRE(c.points.size() == 1);
    CHECK(c.points[0].program == "openat_tp");
    REQUIRE(c.passed_over.size() == 1);
    CHECK_THAT(c.passed_over[0], Contains("fentry"));
    CHECK(plan.uses("openat_tp"));
    CHECK_FALSE(plan.uses("openat2_tp"));
    CHECK_FALSE(plan.uses("open_fentry"));

    // With openat2 present, both points are kept.
    kernel.targets.insert("syscalls:sys_enter_openat2");
    AttachPlan both = AttachPlan::choose("opensnoop", {open_step()}, kernel);
    REQUIRE(both.choices().at(0).points.size() == 2);
    CHECK(both.uses("openat2_tp"));
}

TEST_CASE("attach plan: an absent optional point does not hide the points after it",
          "[attach_plan]") {
    FakeKernel kernel = everything();
    kernel.targets.erase("syscalls:sys_enter_openat2");
    AttachStep step{"open entry",
                    {{{{"openat2_tp", AttachKind::tracepoint, "syscalls:sys_enter_openat2", true},
                       {"openat_tp", AttachKind::tracepoint, "syscalls:sys_enter_openat"},
                       {"openat_exit", AttachKind::tracepoint, "syscalls:sys_exit_openat"}}}}};
    AttachPlan plan = AttachPlan::choose("opensnoop", {step}, kernel);
    const AttachPlan::Choice& c = plan.choices().at(0);
    REQUIRE(c.points.size() == 2);
    CHECK(c.points[0].program == "openat_tp");
    CHECK(c.points[1].program == "openat_exit");
    CHECK(c.passed_over.empty());
}

TEST_CASE("attach plan: a missing required target passes the way over", "[attach_plan]") {
    FakeKernel kernel = everything();
    kernel.targets.erase("do_sys_openat2");
    AttachPlan plan = AttachPlan::choose("opensnoop", {open_step()}, kernel);
    const AttachPlan::Choice& c = plan.choices().at(0);
    REQUIRE(c.points.size() == 2);
    CHECK(c.points[0].program == "openat_tp");
    REQUIRE(c.passed_over.size() == 1);
    CHECK_THAT(c.passed_over[0], Contains("fentry"));
    CHECK_THAT(c.passed_over[0], Contains("do_sys_openat2"));
}

TEST_CASE("attach plan: a way made only of absent optional points is not chosen", "[attach_plan]") {
    FakeKernel kernel = everything();
    AttachStep step{"optional only",
                    {
                        {{{"a", AttachKind::tracepoint, "nope:one", true},
                          {"b", AttachKind::tracepoint, "nope:two", true}}},
                        {{{"c", AttachKind::raw_tp, "sched_process_exec"}}},
                    }};
    AttachPlan plan = AttachPlan::choose("tool", {step}, kernel);
    const AttachPlan::Choice& c = plan.choices().at(0);
    REQUIRE(c.points.size() == 1);
    CHECK(c.points[0].program == "c");
    CHECK(c.passed_over.size() == 1);
}

TEST_CASE("attach plan: no usable way is a RuntimeError naming the step and every reason",
          "[attach_plan]") {
    FakeKernel kernel = everything();
    kernel.supported.erase(AttachKind::tp_btf);
    kernel.supported.erase(AttachKind::raw_tp);
    kernel.targets.erase("sched:sched_process_exec");

    std::string message = error_of({exec_step()}, kernel);
    CHECK_THAT(message, Contains("process exec"));
    CHECK_THAT(message, Contains("fake kernel lacks tp_btf"));
    CHECK_THAT(message, Contains("fake kernel lacks raw_tp"));
    CHECK_THAT(message, Contains("sched:sched_process_exec"));

    // The failing step is named even when an earlier one was fine.
    FakeKernel no_open = everything();
    no_open.supported.erase(AttachKind::fentry);
    no_open.targets.erase("syscalls:sys_enter_openat");
    std::string second = error_of({exec_step(), open_step()}, no_open);
    CHECK_THAT(second, Contains("open entry"));
    CHECK_THAT(second, !Contains("process exec"));
    CHECK_THAT(second, Contains("fentry"));
    CHECK_THAT(second, Contains("syscalls:sys_enter_openat"));
}

TEST_CASE("attach plan: several steps, uses() and describe()", "[attach_plan]") {
    FakeKernel kernel = everything();
    kernel.supported.erase(AttachKind::tp_btf);
    kernel.supported.erase(AttachKind::fentry);
    AttachPlan plan = AttachPlan::choose("demo", {exec_step(), open_step()}, kernel);
    REQUIRE(plan.choices().size() == 2);
    CHECK(plan.choices()[0].what == "process exec");
    CHECK(plan.choices()[1].what == "open entry");

    CHECK(plan.uses("exec_raw"));
    CHECK(plan.uses("openat_tp"));
    CHECK(plan.uses("openat2_tp"));
    CHECK_FALSE(plan.uses("exec_btf"));
    CHECK_FALSE(plan.uses("exec_tp"));
    CHECK_FALSE(plan.uses("open_fentry"));
    CHECK_FALSE(plan.uses("no_such_program"));
    CHECK_FALSE(plan.uses(""));

    std::string text = plan.describe();
    INFO(text);
    CHECK_THAT(text, Contains("demo"));
    CHECK_THAT(text, Contains("process exec"));
    CHECK_THAT(text, Contains("raw_tp:sched_process_exec"));
    CHECK_THAT(text, Contains("open entry"));
    CHECK_THAT(text, Contains("tracepoint:syscalls:sys_enter_openat "));
    CHECK_THAT(text, Contains("tracepoint:syscalls:sys_enter_openat2"));
    CHECK_THAT(text, Contains("fake kernel lacks tp_btf"));
    CHECK_THAT(text, Contains("fake kernel lacks fentry"));
    CHECK_THAT(text, !Contains("tracepoint:sched:sched_process_exec")); // not chosen
    // The chosen points of a step come before the ways it passed over.
    CHECK(text.find("raw_tp:sched_process_exec") < text.find("lacks tp_btf"));
    CHECK(text.find("lacks tp_btf") < text.find("open entry"));
    CHECK(text.back() == '\n');
}

TEST_CASE("attach plan: describe_json() parses and carries the plan", "[attach_plan]") {
    FakeKernel kernel = everything();
    kernel.supported.erase(AttachKind::tp_btf);
    kernel.targets.erase("syscalls:sys_enter_openat2");
    kernel.supported.erase(AttachKind::fentry);
    AttachPlan plan = AttachPlan::choose("demo", {exec_step(), open_step()}, kernel);

    std::string text = plan.describe_json();
    INFO(text);
    CHECK(text.back() == '\n');
    CHECK(text.find('\n') == text.size() - 1);
    json doc = json::parse(text);
    CHECK(doc["type"] == "attach_plan");
    CHECK(doc["tool"] == "demo");
    REQUIRE(doc["steps"].size() == 2);

    const json& exec = doc["steps"][0];
    CHECK(exec["what"] == "process exec");
    REQUIRE(exec["attach"].size() == 1);
    CHECK(exec["attach"][0]["kind"] == "raw_tp");
    CHECK(exec["attach"][0]["target"] == "sched_process_exec");
    CHECK(exec["attach"][0]["program"] == "exec_raw");
    REQUIRE(exec["passed_over"].size() == 1);
    CHECK_THAT(exec["passed_over"][0].get<std::string>(), Contains("fake kernel lacks tp_btf"));

    const json& open = doc["steps"][1];
    CHECK(open["what"] == "open entry");
    REQUIRE(open["attach"].size() == 1);
    CHECK(open["attach"][0]["kind"] == "tracepoint");
    CHECK(open["attach"][0]["target"] == "syscalls:sys_enter_openat");
    REQUIRE(open["passed_over"].size() == 1);

    // Empty plans are valid too.
    json none = json::parse(AttachPlan::choose("empty", {}, kernel).describe_json());
    CHECK(none["steps"].empty());
}

TEST_CASE("attach plan: choose_available leaves out a step with no way, and shows it",
          "[attach_plan]") {
    FakeKernel k = everything();
    k.supported = {AttachKind::tp_btf}; // exec by tp_btf; open neither by fentry nor tracefs
    std::vector<std::string> unavailable;
    AttachPlan plan =
        AttachPlan::choose_available("tool", {exec_step(), open_step()}, k, unavailable);
    REQUIRE(plan.choices().size() == 1);
    CHECK(plan.has_step("process exec"));
    CHECK(!plan.has_step("open entry"));
    CHECK(plan.uses("exec_btf"));
    CHECK(!plan.uses("open_fentry"));
    REQUIRE(unavailable.size() == 1);
    CHECK_THAT(unavailable[0],
               Contains("open entry: this kernel offers no way to trace open entry"));
    REQUIRE(plan.missing().size() == 1);
    const AttachPlan::Choice& m = plan.missing()[0];
    CHECK(m.what == "open entry");
    CHECK(m.points.empty());
    REQUIRE(m.passed_over.size() == 2); // each way, in order
    CHECK_THAT(m.passed_over[0], Contains("fake kernel lacks fentry"));
    CHECK_THAT(m.passed_over[1], Contains("fake kernel lacks tracepoint"));
    // describe(): the step's line names no attach point (a reader counting
    // points counts none), then the ways passed over.
    std::string text = plan.describe();
    CHECK_THAT(text, Contains("  open entry:\n    not traced: this kernel offers no way\n"
                              "    passed over fentry: fake kernel lacks fentry\n"));
    json j = json::parse(plan.describe_json());
    CHECK(j.at("steps").size() == 1);
    REQUIRE(j.at("not_traced").size() == 1);
    CHECK(j.at("not_traced").at(0).at("what") == "open entry");
    CHECK(j.at("not_traced").at(0).at("passed_over").size() == 2);
    // A plan with every step: no not_traced key.
    std::vector<std::string> none;
    AttachPlan full = AttachPlan::choose_available("tool", {exec_step()}, k, none);
    CHECK(none.empty());
    CHECK(!json::parse(full.describe_json()).contains("not_traced"));
}

TEST_CASE("attach plan: kind names", "[attach_plan]") {
    CHECK(std::string(attach_kind_name(AttachKind::tp_btf)) == "tp_btf");
    CHECK(std::string(attach_kind_name(AttachKind::raw_tp)) == "raw_tp");
    CHECK(std::string(attach_kind_name(AttachKind::tracepoint)) == "tracepoint");
    CHECK(std::string(attach_kind_name(AttachKind::fentry)) == "fentry");
    CHECK(std::string(attach_kind_name(AttachKind::fexit)) == "fexit");
    CHECK(std::string(attach_kind_name(AttachKind::kprobe)) == "kprobe");
    CHECK(std::string(attach_kind_name(AttachKind::kretprobe)) == "kretprobe");
    CHECK(std::string(attach_kind_name(AttachKind::uprobe)) == "uprobe");
    CHECK(std::string(attach_kind_name(AttachKind::uretprobe)) == "uretprobe");
    CHECK(std::string(attach_kind_name(AttachKind::perf_event)) == "perf_event");
}

TEST_CASE("attach plan: a perf_event step is chosen where perf events work", "[attach_plan]") {
    PerfEventSpec spec;
    spec.frequency = 99;
    spec.cpus = {1};
    AttachStep sampling{"timed samples",
                        {{{{"sample", AttachKind::perf_event, "cpu-clock", false, spec}}}}};
    FakeKernel kernel = everything();
    kernel.supported.insert(AttachKind::perf_event);
    kernel.targets.insert("cpu-clock");
    AttachPlan plan = AttachPlan::choose("profile", {sampling}, kernel);
    REQUIRE(plan.choices().size() == 1);
    REQUIRE(plan.choices()[0].points.size() == 1);
    const AttachPoint& chosen = plan.choices()[0].points[0];
    CHECK(chosen.kind == AttachKind::perf_event);
    CHECK(chosen.perf_event.frequency == 99);
    CHECK(chosen.perf_event.cpus == std::vector<int>{1});
    CHECK_THAT(plan.describe(), Contains("timed samples: perf_event:cpu-clock"));

    FakeKernel without = everything();
    without.targets.insert("cpu-clock");
    CHECK_THROWS_WITH(AttachPlan::choose("profile", {sampling}, without),
                      Contains("timed samples") && Contains("fake kernel lacks perf_event"));
}

TEST_CASE("attach plan: CPU lists as sysfs writes them", "[attach_plan]") {
    CHECK(parse_cpu_list("0") == std::vector<int>{0});
    CHECK(parse_cpu_list("0-3\n") == std::vector<int>{0, 1, 2, 3});
    CHECK(parse_cpu_list("0-1,4,6-7") == std::vector<int>{0, 1, 4, 6, 7});
    for (const char* bad : {"", "a", "1-", "3-1", "1,,2", "1,", "-1", "0-2x"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_cpu_list(bad), std::invalid_argument);
    }
    std::vector<int> online = online_cpus();
    CHECK_FALSE(online.empty());
    CHECK(static_cast<long>(online.size()) <= sysconf(_SC_NPROCESSORS_CONF));
}

TEST_CASE("file_rw_step: both families' entries and exits, then the raw pair (filetop, dirtop)",
          "[attach_plan]") {
    AttachStep step = file_rw_step();
    REQUIRE(step.ways.size() == 2);
    std::set<std::string> required, optional;
    for (const AttachPoint& p : step.ways[0].points) {
        CHECK(p.kind == AttachKind::tracepoint);
        CHECK(p.target == "syscalls:sys_" + p.program.substr(3)); // tp_enter_read: sys_enter_read
        (p.optional ? optional : required).insert(p.program);
    }
    for (const char* call : {"read", "write", "pread64", "pwrite64", "readv", "writev"}) {
        CHECK(required.count(std::string("tp_enter_") + call) == 1);
        CHECK(required.count(std::string("tp_exit_") + call) == 1);
    }
    for (const char* call : {"preadv", "pwritev", "preadv2", "pwritev2"}) {
        CHECK(optional.count(std::string("tp_enter_") + call) == 1);
        CHECK(optional.count(std::string("tp_exit_") + call) == 1);
    }
    CHECK(required.size() + optional.size() == 20);
    REQUIRE(step.ways[1].points.size() == 2);
    CHECK(step.ways[1].points[0].program == "raw_enter");
    CHECK(step.ways[1].points[1].program == "raw_exit");
}

TEST_CASE("function_tiers: fentry and fexit, else kprobes; each entry before its exit",
          "[attach_plan]") {
    AttachStep step = function_tiers("lock hold times", {{"mutex_lock", true, true},
                                                         {"mutex_trylock", true, true, true},
                                                         {"mutex_unlock"},
                                                         {"do_exit", false, true}});
    CHECK(step.what == "lock hold times");
    REQUIRE(step.ways.size() == 2);
    auto points = [](const AttachWay& way) {
        std::vector<std::string> out;
        for (const AttachPoint& p : way.points)
            out.push_back(std::string(attach_kind_name(p.kind)) + " " + p.program + " " + p.target +
                          (p.optional ? " optional" : ""));
        return out;
    };
    CHECK(points(step.ways[0]) ==
          std::vector<std::string>{
              "fentry fentry_mutex_lock mutex_lock", "fexit fexit_mutex_lock mutex_lock",
              "fentry fentry_mutex_trylock mutex_trylock optional",
              "fexit fexit_mutex_trylock mutex_trylock optional",
              "fentry fentry_mutex_unlock mutex_unlock", "fexit fexit_do_exit do_exit"});
    CHECK(points(step.ways[1]) ==
          std::vector<std::string>{
              "kprobe kprobe_mutex_lock mutex_lock", "kretprobe kretprobe_mutex_lock mutex_lock",
              "kprobe kprobe_mutex_trylock mutex_trylock optional",
              "kretprobe kretprobe_mutex_trylock mutex_trylock optional",
              "kprobe kprobe_mutex_unlock mutex_unlock", "kretprobe kretprobe_do_exit do_exit"});

    // Programs named otherwise than their function (tcpretrans -l).
    AttachStep named = function_tiers(
        "tail loss probes", {{.function = "tcp_send_loss_probe", .programs = "loss_probe"}});
    CHECK(points(named.ways[0]) ==
          std::vector<std::string>{"fentry fentry_loss_probe tcp_send_loss_probe"});
    CHECK(points(named.ways[1]) ==
          std::vector<std::string>{"kprobe kprobe_loss_probe tcp_send_loss_probe"});
}

} // namespace test_attach_plan
