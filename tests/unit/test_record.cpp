// The record model (common/record.h) and the printers built on it: text
// columns under their header, JSON Lines with the task prefix, and what
// each kind of field does in each format.
#include "histogram_printer.h"
#include "record.h"
#include "table_printer.h"
#include "top_table.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace test_record {

using namespace corescope;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

// A writer over its own Output whose text the test reads back.
struct Printed {
    CommonOptions options;
    Output out{-1};
    std::string text() { return out.buffer(); }
};

RecordLayout sample_layout(bool extended) {
    return {task_all,
            {pid_column(), comm_column(), column("fd", "FD", 3, Align::right),
             column("errno", "ERR", 3, Align::right), json_field("syscall"),
             shown_if(extended, octal(text_column("FLAGS", 8))),
             with_text_decimals(2, column("latency_ms", "LAT(ms)", 7, Align::right)),
             with_suffix("%", with_decimals(1, text_column("PCT", 6, Align::right))),
             column("path", "PATH", 0)}};
}

void sample_record(RecordWriter& w, const Task& task, int fd, std::string_view path) {
    if (Record r = w.begin(task))
        r.number(fd)
            .number(2)
            .text("openat")
            .number(0644u)
            .real(1.23456)
            .real(42.0)
            .text(path)
            .end();
}

const Task task{5000000000ull, 42, 43, 1000, "cat"};

} // namespace

TEST_CASE("record: text columns line up under their header, the last one unpadded", "[record]") {
    Printed p;
    RecordWriter w(p.options, p.out, sample_layout(false));
    w.header();
    sample_record(w, task, 3, "/etc/passwd");
    sample_record(w, task, -1, "/missing");
    CHECK(p.text() == "PID     COMM              FD ERR LAT(ms)    PCT PATH\n"
                      "42      cat                3   2    1.23  42.0% /etc/passwd\n"
                      "42      cat               -1   2    1.23  42.0% /missing\n");
}

TEST_CASE("record: an option's column, octal, -T and -U", "[record]") {
    Printed p;
    p.options.time = true;
    p.options.print_uid = true;
    RecordWriter w(p.options, p.out, sample_layout(true));
    w.header();
    sample_record(w, task, 3, "/x");
    std::string text = p.text();
    CHECK_THAT(text,
               Contains("TIME     UID     PID     COMM              FD ERR FLAGS    LAT(ms)"));
    CHECK_THAT(text, Contains(" 00000644 "));
    // The UID column holds the task's UID; the time is HH:MM:SS.
    std::string row = text.substr(text.find('\n') + 1);
    CHECK(row[2] == ':');
    CHECK(row.substr(9, 8) == "1000    ");
}

TEST_CASE("record: JSON opens with the task, keeps its own keys and types", "[record]") {
    Printed p;
    p.options.format = OutputFormat::json;
    RecordWriter w(p.options, p.out, sample_layout(true));
    w.header(); // nothing in JSON
    sample_record(w, task, 3, "/x\n\x1b[2J");
    std::string text = p.text();
    REQUIRE(text.back() == '\n');
    json j = json::parse(text);
    CHECK(text.rfind("{\"time\":\"", 0) == 0);
    CHECK(text.find("\"pid\":42,\"tid\":43,\"uid\":1000,\"comm\":\"cat\",\"fd\":3") !=
          std::string::npos);
    CHECK(j.at("errno") == 2);
    CHECK(j.at("syscall") == "openat");
    CHECK(j.at("latency_ms") == 1.235); // three decimals in JSON
    CHECK(j.at("path") == "/x\n\x1b[2J");
    CHECK_FALSE(j.contains("FLAGS"));
    CHECK_FALSE(j.contains("PCT"));
    CHECK(j.size() == 10);
}

TEST_CASE("record: text escapes what the traced system hands over", "[record]") {
    Printed p;
    RecordWriter w(p.options, p.out, sample_layout(false));
    sample_record(w,
                  {0, 1, 1, 0,
                   "a\x1b"
                   "b"},
                  3, "/x\n\x7f");
    CHECK_THAT(p.text(), Contains("a\\eb"));
    CHECK_THAT(p.text(), Contains("/x\\n\\x7f\n"));
}

TEST_CASE("record: an unknown process is null in JSON and '-' in text, never a guess", "[record]") {
    Task unknown = task;
    unknown.known = false;
    Printed text;
    text.options.print_uid = true;
    RecordWriter tw(text.options, text.out, sample_layout(false));
    sample_record(tw, unknown, 3, "/x");
    CHECK(text.text() == "-       -       -                  3   2    1.23  42.0% /x\n");

    Printed js;
    js.options.format = OutputFormat::json;
    RecordWriter jw(js.options, js.out, sample_layout(false));
    sample_record(jw, unknown, 3, "/x");
    json j = json::parse(js.text());
    for (const char* key : {"pid", "tid", "uid", "comm"})
        CHECK(j.at(key).is_null());
    CHECK(j.at("fd") == 3);

    // -n cannot match a process that is not known.
    Printed named;
    named.options.name = "ca";
    RecordWriter nw(named.options, named.out, sample_layout(false));
    unknown.comm = {};
    CHECK_FALSE(static_cast<bool>(nw.begin(unknown)));
}

TEST_CASE("record: -n keeps only tasks whose command contains the text", "[record]") {
    Printed p;
    p.options.name = "ca";
    RecordWriter w(p.options, p.out, sample_layout(false));
    CHECK(static_cast<bool>(w.begin(task)));
    CHECK_FALSE(static_cast<bool>(w.begin({0, 1, 1, 0, "dog"})));
    CHECK(p.text().empty());
}

TEST_CASE("record: an excluded task's record takes every call and writes nothing", "[record]") {
    for (OutputFormat format : {OutputFormat::text, OutputFormat::json}) {
        Printed p;
        p.options.name = "ca";
        p.options.format = format;
        RecordWriter w(p.options, p.out, sample_layout(true));
        // Printers that fill a record before ending it need not test it first.
        w.begin({0, 1, 1, 0, "dog"})
            .number(3)
            .null()
            .absent()
            .text("x")
            .real(1.0)
            .boolean(true)
            .end();
        w.begin({0, 1, 1, 0, "dog"}).lazy([] { return 1; }).formatted("y").strings({"z"}).end();
        CHECK(p.text().empty());
    }
}

TEST_CASE("record: null, absent, booleans, lists and lazy values in both formats", "[record]") {
    RecordLayout layout{0,
                        {column("a", "A", 3), column("b", "B", 3), column("ok", "OK", 5),
                         column("args", "ARGS", 0), json_field("never")}};
    int made = 0;
    auto fill = [&](RecordWriter& w) {
        w.begin()
            .null()
            .absent()
            .boolean(true)
            .strings({"x y", "z"}, "...")
            .lazy([&] {
                made++;
                return std::string("computed");
            })
            .end();
    };
    Printed text;
    RecordWriter tw(text.options, text.out, layout);
    fill(tw);
    CHECK(text.text() == "-   -   true  x y z ...\n");
    CHECK(made == 0); // JSON-only: not computed for text

    Printed js;
    js.options.format = OutputFormat::json;
    RecordWriter jw(js.options, js.out, layout);
    fill(jw);
    CHECK(js.text() ==
          "{\"a\":null,\"ok\":true,\"args\":[\"x y\",\"z\"],\"never\":\"computed\"}\n");
    CHECK(made == 1);
}

TEST_CASE("record: a value where the record has it, else null", "[record]") {
    RecordLayout layout{0, {column("port", "PORT", 5), column("state", "STATE", 0)}};
    auto fill = [&](RecordWriter& w, bool has) {
        w.begin().number_or_null(has, uint16_t{443}).text_or_null(has, "LISTEN").end();
    };
    Printed text;
    RecordWriter tw(text.options, text.out, layout);
    fill(tw, true);
    fill(tw, false);
    CHECK(text.text() == "443   LISTEN\n-     -\n");

    Printed js;
    js.options.format = OutputFormat::json;
    RecordWriter jw(js.options, js.out, layout);
    fill(jw, true);
    fill(jw, false);
    CHECK(js.text() == "{\"port\":443,\"state\":\"LISTEN\"}\n{\"port\":null,\"state\":null}\n");
}

TEST_CASE("record: a table prints a header per table in text, one record with entries in JSON",
          "[record][table]") {
    RecordLayout rows{0, {column("name", "NAME", 8), column("count", "COUNT", 6, Align::right)}};
    RecordLayout table{0, {json_field("total")}};
    auto print = [&](TablePrinter& t) {
        for (int round = 0; round < 2; round++) {
            t.begin();
            t.row().text("read").number(10).end();
            t.row().text("write").number(5).end();
            t.end([](Record& r) { r.number(15); });
        }
    };
    Printed text;
    text.options.time = true;
    TablePrinter tt(text.options, text.out, rows, table);
    print(tt);
    std::string t = text.text();
    CHECK(std::count(t.begin(), t.end(), '[') == 2); // the time line of each table
    CHECK_THAT(t, Contains("NAME      COUNT\nread         10\nwrite         5\n\n["));

    Printed js;
    js.options.format = OutputFormat::json;
    TablePrinter jt(js.options, js.out, rows, table);
    print(jt);
    std::string j = js.text();
    CHECK(j == "{\"total\":15,\"entries\":[{\"name\":\"read\",\"count\":10},{\"name\":\"write\","
               "\"count\":5}]}\n"
               "{\"total\":15,\"entries\":[{\"name\":\"read\",\"count\":10},{\"name\":\"write\","
               "\"count\":5}]}\n");
}

TEST_CASE("record: a top table is ranked and cut to -r, under a load line, time and load first "
          "in JSON",
          "[record][table][top]") {
    RecordLayout rows{0, {column("name", "NAME", 6), column("count", "COUNT", 5, Align::right)}};
    std::vector<std::pair<std::string, int>> counts = {{"b", 2}, {"c", 9}, {"a", 5}};
    TopOptions top;
    top.rows = 2;
    auto print = [&](TopTable& t) {
        auto ranked = counts;
        size_t all = t.rank(ranked, [](auto& x, auto& y) { return x.second > y.second; });
        CHECK(all == 3);
        REQUIRE(ranked.size() == 2);
        t.begin();
        for (auto& [name, count] : ranked)
            t.row().text(name).number(count).end();
        t.end([&](Record& r) { r.number(all); });
    };

    Printed text;
    TopTable tt(text.options, text.out, top, true, rows, {json_field("rows")}, fixed_load_average);
    print(tt);
    std::string t = text.text();
    // Cleared like top, then the wall time and the load average.
    CHECK(t.rfind("\033[H\033[2J", 0) == 0);
    CHECK_THAT(t, Contains(" loadavg: " + fixed_load_average() +
                           "\nNAME   COUNT\nc          9\n"
                           "a          5\n"));
    CHECK_THAT(t, !Contains("b "));

    Printed quiet; // -S, -C: no load line, nothing cleared
    TopTable qt(quiet.options, quiet.out, top, false, rows, {json_field("rows")},
                fixed_load_average, false);
    print(qt);
    CHECK(quiet.text().rfind("NAME   COUNT\n", 0) == 0);

    Printed js;
    js.options.format = OutputFormat::json;
    TopTable jt(js.options, js.out, top, true, rows, {json_field("rows")}, fixed_load_average);
    print(jt);
    json record = json::parse(js.text());
    CHECK(record.at("time").get<std::string>().size() == 27);
    CHECK(record.at("interval_s").get<double>() >= 0);
    CHECK(record.at("loadavg") == fixed_load_average());
    CHECK(record.at("rows") == 3);
    CHECK(record.at("entries") ==
          json::parse(R"([{"name":"c","count":9},{"name":"a","count":5}])"));

    Printed js_quiet;
    js_quiet.options.format = OutputFormat::json;
    TopTable jq(js_quiet.options, js_quiet.out, top, false, rows, {json_field("rows")},
                fixed_load_average, false);
    print(jq);
    CHECK(!json::parse(js_quiet.text()).contains("loadavg"));
}

TEST_CASE("record: a histogram is a label line and bars in text, one record in JSON",
          "[record][histogram]") {
    Histogram h = Histogram::log2({0, 0, 3, 1});
    Printed text;
    HistogramPrinter th(text.options, text.out, {json_field("pid")}, "usecs");
    th.begin_interval();
    th.print(
        h, [](Record& r) { r.number(7); }, [] { return std::string("pid = 7"); });
    th.print(
        Histogram::log2({}), [](Record& r) { r.number(8); }, [] { return std::string("pid = 8"); });
    CHECK(text.text().rfind("pid = 7\n", 0) == 0);
    CHECK_THAT(text.text(), Contains("4 -> 7"));
    CHECK(text.text().find("pid = 8") == std::string::npos); // empty: nothing in text

    Printed js;
    js.options.format = OutputFormat::json;
    HistogramPrinter jh(js.options, js.out, {json_field("pid")}, "usecs");
    jh.begin_interval();
    jh.print(
        h, [](Record& r) { r.number(7); }, [] { return std::string(); });
    json j = json::parse(js.text());
    CHECK(j.at("type") == "histogram");
    CHECK(j.at("pid") == 7);
    CHECK(j.at("total") == 4);
    CHECK(j.at("p50") == 7);
    CHECK(j.at("buckets").size() == 4);
    CHECK(j.at("buckets")[2].at("count") == 3);
}

} // namespace test_record
