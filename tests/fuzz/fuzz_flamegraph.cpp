// The flame graph renderer (common/flamegraph.h) with arbitrary folded
// text, options taken from the input's first bytes: the SVG always reads
// with the strict reader (tests/common/svg_reader.h: only the renderer's
// own elements, references, valid UTF-8, no control byte, every element
// closed in order), so no input put a '<' or a reference of its own into
// it; the script is the renderer's, byte for byte; the frames' counts sum
// as the input's; and the same input gives the same bytes twice.
#include "checks.h"
#include "flamegraph.h"

#include "common/svg_reader.h"

#include <string>

namespace {

const std::string& fixed_script() {
    static const std::string script = [] {
        corescope::FlameGraph g;
        g.add({{"a", corescope::FrameKind::process}}, 1);
        svgreader::Result r = svgreader::read(g.svg({}));
        if (!r.root) fuzz::fail("the reference SVG does not read", r.error);
        for (const svgreader::Element* s : r.root->all("script"))
            if (!s->cdata.empty()) return s->cdata;
        fuzz::fail("the reference SVG has no script", "");
    }();
    return script;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 64 * 1024) return 0;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    corescope::FlameOptions options;
    if (size > 0) {
        options.icicle = data[0] & 1;
        options.width = 200 + (data[0] >> 1) * 20;
        options.min_width = (data[0] & 2) ? 0 : 0.1;
    }
    // The first line, when it holds no count, is the title and unit.
    size_t eol = input.find('\n');
    std::string_view first = input.substr(0, eol);
    if (!first.empty() && !corescope::parse_folded_line(first)) {
        size_t bar = first.find('|');
        options.title = std::string(first.substr(0, bar));
        if (bar != std::string_view::npos) options.count_name = std::string(first.substr(bar + 1));
    }
    uint64_t counted = 0;
    corescope::FlameGraph graph = corescope::flame_graph_from_folded(
        input, [](size_t, std::string_view, const std::string&) {});
    std::string svg = graph.svg(options);
    svgreader::Result read = svgreader::read(svg);
    if (!read.root) fuzz::fail(read.error.c_str(), svg);
    std::string script;
    for (const svgreader::Element* s : read.root->all("script"))
        script += s->cdata;
    if (script != fixed_script()) fuzz::fail("the script is not the renderer's own", svg);
    for (const svgreader::Element* g : read.root->all("g")) {
        std::string cls = g->attribute("class");
        if (cls == "f r") counted = std::stoull(g->attribute("data-c"));
        if (!g->children.empty() && cls.rfind("f ", 0) == 0 &&
            (!g->child("title") || !g->child("rect") || !g->child("text")))
            fuzz::fail("a frame without its title, rect and text", svg);
    }
    if (counted != graph.total()) fuzz::fail("the root frame is not the total", svg);
    if (graph.svg(options) != svg) fuzz::fail("the same input drew different bytes", svg);
    return 0;
}
