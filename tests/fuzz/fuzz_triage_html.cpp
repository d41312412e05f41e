// triage's HTML page (frontend/triage_html.cpp) from a report whose names,
// log lines, findings and numbers are the input's bytes: the page is valid
// UTF-8 with no control byte but the newline, its every '<' opens or closes
// an element of the renderer's own, its elements balance, and the JSON it
// carries parses.
#include "checks.h"
#include "html_check.h"
#include "triage_html.h"
#include "triage_sample.h"

#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using namespace corescope::triage;

namespace {

// The input as fields separated by 0xfe 0xfe (rarer than any one byte).
class Fields {
  public:
    explicit Fields(std::string_view input) {
        for (;;) {
            size_t at = input.find("\xfe\xfe");
            fields_.emplace_back(input.substr(0, at));
            if (at == std::string_view::npos) break;
            input.remove_prefix(at + 2);
        }
    }
    std::string text() { return fields_[next_++ % fields_.size()]; }
    // A number from the next field's bytes: any double, NaN and infinities too.
    double real() {
        std::string f = text();
        double v = 0;
        if (f.size() >= sizeof v)
            std::memcpy(&v, f.data(), sizeof v);
        else
            for (unsigned char c : f)
                v = v * 7 + c;
        return v;
    }
    uint64_t whole() {
        std::string f = text();
        uint64_t v = 0;
        std::memcpy(&v, f.data(), std::min(f.size(), sizeof v));
        return v;
    }

  private:
    std::vector<std::string> fields_;
    size_t next_ = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Fields in(std::string_view(reinterpret_cast<const char*>(data), size));
    Report r = triage_sample::report();
    r.hostname = in.text();
    r.kernel = in.text();
    r.started_at = in.text();
    r.window_s = in.real();
    r.load1 = in.real();
    r.cpu.user = in.real();
    r.per_cpu[1].system = in.real();
    r.per_cpu[2].idle = in.real();
    for (BusyProcess& p : r.busiest) {
        p.comm = in.text();
        p.cpu_percent = in.real();
    }
    r.waiters[1].comm = in.text();
    r.waiters[1].wait_us = in.whole();
    r.hardirqs.handlers[1].name = in.text();
    r.disks[1].name = in.text();
    r.disks[1].util_percent = in.real();
    r.disks[0].latency_us = triage_sample::log2_of({in.whole() % 1000, in.whole(), in.whole()});
    r.run_queue_us = triage_sample::log2_of({in.whole(), in.whole() % 7, 0, in.whole()});
    r.io_busiest[1].comm = in.text();
    r.io_busiest[1].write_kb_per_s = in.real();
    r.io_files[1].file = in.text();
    r.net[1].name = in.text();
    r.drop_reasons[0].name = in.text();
    r.exec_commands[1].name = in.text();
    r.fatal_signal_targets[0].target = in.text();
    r.oom_kills[0].comm = in.text();
    r.kernel_log[2].text = in.text();
    r.kernel_log[2].kind = in.text();
    r.unavailable.push_back(in.text());
    std::vector<Finding> findings = analyze(r);
    findings.push_back({Severity::notice, in.text(), in.text(), in.text()});

    std::string html = render_html(r, findings);
    if (const char* wrong = fuzz::check_utf8(html)) fuzz::fail(wrong, html);
    if (const char* wrong = fuzz::check_terminal_safe(html)) fuzz::fail(wrong, html);
    std::string markup = html_check::check_markup(html);
    if (!markup.empty()) fuzz::fail(markup.c_str(), html);
    std::string opening =
        std::string("<script type=\"application/json\" id=\"") + html_report_json_id + "\">";
    size_t at = html.find(opening);
    if (at == std::string::npos) fuzz::fail("no report JSON", html);
    at += opening.size();
    std::string json = html.substr(at, html.find("</script>", at) - at);
    if (nlohmann::json::parse(json, nullptr, false).is_discarded())
        fuzz::fail("the report JSON does not parse", json);
    return 0;
}
