// Flame graphs (common/flamegraph.h): folded lines parsed, and the SVG read
// back by a strict reader of its own (tests/common/svg_reader.h): widths
// from counts, nesting, rows, escaping of hostile names, the same bytes
// for the same input.
#include "flamegraph.h"
#include "output.h"

#include "common/svg_reader.h"

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace test_flamegraph {

using namespace corescope;

namespace {

struct Box {
    std::string name; // the title's name, before " (N unit, P%)"
    std::string title;
    double x, y, width;
    uint64_t start, count;
    size_t depth;
};

std::vector<Box> frames_of(const std::string& svg) {
    svgreader::Result read = svgreader::read(svg);
    INFO(read.error);
    REQUIRE(read.root);
    std::vector<Box> boxes;
    for (const svgreader::Element* g : read.root->all("g")) {
        if (g->attribute("class").rfind("f ", 0) != 0) continue;
        const svgreader::Element* title = g->child("title");
        const svgreader::Element* rect = g->child("rect");
        REQUIRE(title);
        REQUIRE(rect);
        Box b;
        b.title = title->text;
        b.name = b.title.substr(0, b.title.rfind(" ("));
        b.x = std::stod(rect->attribute("x"));
        b.y = std::stod(rect->attribute("y"));
        b.width = std::stod(rect->attribute("width"));
        b.start = std::stoull(g->attribute("data-s"));
        b.count = std::stoull(g->attribute("data-c"));
        b.depth = std::stoul(g->attribute("data-d"));
        boxes.push_back(b);
    }
    return boxes;
}

FlameGraph graph_of(std::string_view folded) {
    return flame_graph_from_folded(
        folded, [](size_t number, std::string_view line, const std::string& why) {
            FAIL("line " << number << " (" << std::string(line) << ") refused: " << why);
        });
}

const Box& named(const std::vector<Box>& boxes, const std::string& name) {
    for (const Box& b : boxes)
        if (b.name == name) return b;
    FAIL("no frame named " << name);
    return boxes.front();
}

// Every frame below the root sits inside its parent's x range, one row
// further from the root; the parent is the frame one level up whose count
// range holds it.
void check_nesting(const std::vector<Box>& boxes, double row_step) {
    for (const Box& child : boxes) {
        if (child.depth == 0) continue;
        const Box* parent = nullptr;
        for (const Box& p : boxes)
            if (p.depth + 1 == child.depth && p.start <= child.start &&
                p.start + p.count >= child.start + child.count)
                parent = &p;
        INFO(child.name);
        REQUIRE(parent);
        CHECK(child.x >= parent->x - 0.011);
        CHECK(child.x + child.width <= parent->x + parent->width + 0.011);
        CHECK(child.y == Approx(parent->y + row_step));
    }
}

} // namespace

TEST_CASE("folded lines: frames, kinds and counts", "[flamegraph]") {
    auto s = parse_folded_line("app;main;work;do_syscall_64_[k];vfs_read_[k] 42");
    REQUIRE(s);
    CHECK(s->count == 42);
    REQUIRE(s->frames.size() == 5);
    CHECK(s->frames[0].name == "app");
    CHECK(s->frames[0].kind == FrameKind::process);
    CHECK(s->frames[1].kind == FrameKind::user);
    CHECK(s->frames[3].name == "do_syscall_64");
    CHECK(s->frames[3].kind == FrameKind::kernel);

    s = parse_folded_line("sleeper;[unknown];0x7f00;-;waker_fn\t7");
    REQUIRE(s);
    CHECK(s->count == 7);
    CHECK(s->frames[1].kind == FrameKind::unknown);
    CHECK(s->frames[2].kind == FrameKind::unknown);
    CHECK(s->frames[3].kind == FrameKind::separator);
    CHECK(s->frames[4].kind == FrameKind::user);

    // corescope's folded escapes are undone: the SVG escapes once.
    s = parse_folded_line("app;a\\x3bb;back\\\\slash;nl\\n 1");
    REQUIRE(s);
    CHECK(s->frames[1].name == "a;b");
    CHECK(s->frames[2].name == "back\\slash");
    CHECK(s->frames[3].name == "nl\n");

    // Without a process first (stackcount without -P).
    s = parse_folded_line("main;work 2", nullptr, false);
    REQUIRE(s);
    CHECK(s->frames[0].kind == FrameKind::user);

    // A name with spaces: the count is after the last one.
    s = parse_folded_line("java;Interpreter::call stub;run 3");
    REQUIRE(s);
    CHECK(s->frames[1].name == "Interpreter::call stub");

    std::string why;
    CHECK_FALSE(parse_folded_line("app;main", &why));
    CHECK(why.find("count") != std::string::npos);
    CHECK_FALSE(parse_folded_line("app;main -5", &why));
    CHECK(why.find("negative") != std::string::npos);
    CHECK_FALSE(parse_folded_line("app;main 99999999999999999999999", &why));
    CHECK(why.find("too large") != std::string::npos);
    CHECK_FALSE(parse_folded_line("app;main 9007199254740993", &why));
    CHECK_FALSE(parse_folded_line("app;main 12abc", &why));
    CHECK_FALSE(parse_folded_line(" 12", &why));
    std::string deep = "app";
    for (int i = 0; i < 5000; i++)
        deep += ";f";
    CHECK_FALSE(parse_folded_line(deep + " 1", &why));
}

TEST_CASE("bad lines are reported with their number and skipped", "[flamegraph]") {
    std::vector<size_t> bad;
    FlameGraph g = flame_graph_from_folded(
        "# a comment\napp;a 5\n\nnot a stack\napp;b -1\napp;a 5\r\n",
        [&](size_t number, std::string_view, const std::string&) { bad.push_back(number); });
    CHECK(bad == std::vector<size_t>{4, 5});
    CHECK(g.total() == 10);
    // The total may not pass 2^53.
    bad.clear();
    g = flame_graph_from_folded(
        "a 9007199254740992\nb 1\n",
        [&](size_t number, std::string_view, const std::string&) { bad.push_back(number); });
    CHECK(bad == std::vector<size_t>{2});
}

TEST_CASE("frame widths are their count's share, and children nest in their parents",
          "[flamegraph]") {
    FlameGraph g = graph_of("app;main;alpha 10\napp;main;beta;deep 30\napp;gamma 60\n");
    REQUIRE(g.total() == 100);
    FlameOptions options;
    options.width = 1200;
    for (bool icicle : {false, true}) {
        options.icicle = icicle;
        std::vector<Box> boxes = frames_of(g.svg(options));
        REQUIRE(boxes.size() == 7); // all, app, main, alpha, beta, deep, gamma
        const Box& all = named(boxes, "all");
        CHECK(all.depth == 0);
        CHECK(all.count == 100);
        CHECK(all.x == Approx(10));
        CHECK(all.width == Approx(1180)); // the whole width less the margins
        double per_count = 1180.0 / 100;
        for (const Box& b : boxes) {
            INFO(b.name);
            CHECK(std::fabs(b.width - static_cast<double>(b.count) * per_count) < 1);
            CHECK(std::fabs(b.x - (10 + static_cast<double>(b.start) * per_count)) < 1);
        }
        CHECK(named(boxes, "alpha").count == 10);
        CHECK(named(boxes, "beta").count == 30);
        CHECK(named(boxes, "gamma").count == 60);
        CHECK(named(boxes, "main").count == 40);
        CHECK(named(boxes, "app").title == "app (100 samples, 100.00%)");
        CHECK(named(boxes, "deep").title == "deep (30 samples, 30.00%)");
        // Flame: one row up (y smaller) a level; icicle: one row down.
        check_nesting(boxes, icicle ? 16 : -16);
        // Siblings side by side, not overlapping, in name order.
        CHECK(named(boxes, "alpha").x + named(boxes, "alpha").width <=
              named(boxes, "beta").x + 0.011);
    }
}

TEST_CASE("frames narrower than the threshold are left out, the total kept", "[flamegraph]") {
    FlameGraph g = graph_of("app;big 500000\napp;tiny 1\napp;big;child 500000\n");
    std::vector<Box> boxes = frames_of(g.svg({}));
    const Box& all = named(boxes, "all");
    CHECK(all.count == 1000001);
    CHECK(all.width == Approx(1180));
    for (const Box& b : boxes)
        CHECK(b.name != "tiny");
    CHECK(named(boxes, "child").width == Approx(590).margin(1));
}

TEST_CASE("hostile names come out escaped, and the document still reads", "[flamegraph]") {
    std::vector<std::string> names = {"<script>alert(1)</script>",
                                      "quo\"te'd",
                                      "a&amp;b",
                                      "ctl\x01\x1b[2J",
                                      std::string("bad\xff\xfe utf8"),
                                      "]]></script><script>x()</script>",
                                      "\xef\xbf\xbe",
                                      "\xc2\x9b"
                                      "c1"};
    FlameGraph g;
    for (const std::string& n : names)
        REQUIRE(g.add({{"app", FrameKind::process}, {n, FrameKind::user}}, 3));
    FlameOptions options;
    options.title = "<title>&\"'</title>";
    options.count_name = "</script>";
    std::string svg = g.svg(options);
    svgreader::Result read = svgreader::read(svg);
    INFO(read.error);
    REQUIRE(read.root);
    CHECK(svg.find("<script>alert") == std::string::npos);
    CHECK(svg.find("</script><script>x") == std::string::npos);
    std::vector<Box> boxes = frames_of(svg);
    for (const std::string& n : names) {
        // The name as the text output shows it (append_text_escaped), once.
        std::string shown = text_escaped(n);
        if (n == "\xef\xbf\xbe") shown = "\\ufffe";
        bool found = false;
        for (const Box& b : boxes)
            found = found || b.name == shown;
        INFO(shown);
        CHECK(found);
    }
    // The title reads back as given; the unit too, inside the tooltips.
    CHECK(read.root->child("title")->text == "<title>&\"'</title>");
    CHECK(named(boxes, "app").title == "app (24 </script>, 100.00%)");
    // The script's settings: JSON with no markup character.
    bool config = false;
    for (const svgreader::Element* s : read.root->all("script"))
        if (s->attribute("id") == "flame-config") {
            config = true;
            CHECK(s->text.find('<') == std::string::npos);
            CHECK(s->text.find("\\u003c/script\\u003e") != std::string::npos);
        }
    CHECK(config);
}

TEST_CASE("the same stacks give the same bytes, whatever the order", "[flamegraph]") {
    std::string a = "app;main;x 5\napp;main;y 7\nsh;bash 2\n";
    std::string b = "sh;bash 2\napp;main;y 7\napp;main;x 5\n";
    CHECK(graph_of(a).svg({}) == graph_of(a).svg({}));
    CHECK(graph_of(a).svg({}) == graph_of(b).svg({}));
    // Equal stacks add up.
    CHECK(graph_of("a;b 3\na;b 4\n").svg({}) == graph_of("a;b 7\n").svg({}));
}

TEST_CASE("colours: a hash of the name within the kind's family", "[flamegraph]") {
    auto rgb = [](const FlameFrame& f) {
        unsigned r = 0, g = 0, b = 0;
        REQUIRE(std::sscanf(flame_colour(f).c_str(), "rgb(%u,%u,%u)", &r, &g, &b) == 3);
        return std::array<unsigned, 3>{r, g, b};
    };
    for (const char* name : {"main", "vfs_read", "schedule", "busy_loop", "x"}) {
        auto user = rgb({name, FrameKind::user});
        auto kernel = rgb({name, FrameKind::kernel});
        CHECK(user[0] > user[2]);     // warm
        CHECK(kernel[2] > kernel[0]); // cool
        CHECK(flame_colour({name, FrameKind::user}) == flame_colour({name, FrameKind::user}));
    }
    CHECK(flame_colour({"main", FrameKind::user}) != flame_colour({"work", FrameKind::user}));
}

TEST_CASE("an empty graph is a document that says so", "[flamegraph]") {
    FlameGraph g;
    std::string svg = g.svg({});
    svgreader::Result read = svgreader::read(svg);
    INFO(read.error);
    REQUIRE(read.root);
    CHECK(svg.find("No stacks") != std::string::npos);
    CHECK(frames_of(svg).empty());
}

TEST_CASE("no external resource: no link, no href, no url()", "[flamegraph]") {
    std::string svg = graph_of("app;main 1\n").svg({});
    CHECK(svg.find("href") == std::string::npos);
    CHECK(svg.find("url(") == std::string::npos);
    CHECK(svg.find("@import") == std::string::npos);
    CHECK(svg.find("http://www.w3.org/2000/svg") != std::string::npos); // a name, not fetched
    size_t at = 0, namespaces = 0;
    while ((at = svg.find("http", at)) != std::string::npos) {
        CHECK((svg.compare(at, 26, "http://www.w3.org/2000/svg") == 0 ||
               svg.compare(at, 28, "http://www.w3.org/1999/xhtml") == 0));
        namespaces++;
        at++;
    }
    CHECK(namespaces == 2);
}

} // namespace test_flamegraph
