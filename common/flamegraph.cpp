#include "flamegraph.h"

#include "markup.h"
#include "output.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace corescope {

struct FlameGraph::Node {
    std::string name;
    FrameKind kind = FrameKind::user;
    uint64_t count = 0;
    // Ordered by name (then kind), as flamegraph.pl sorts: the same input
    // gives the same picture, whatever the order of its lines.
    std::map<std::pair<std::string, FrameKind>, std::unique_ptr<Node>> children;
};

FlameGraph::FlameGraph() : root_(std::make_unique<Node>()) {
    root_->name = "all";
    root_->kind = FrameKind::root;
}
FlameGraph::~FlameGraph() = default;
FlameGraph::FlameGraph(FlameGraph&&) noexcept = default;
FlameGraph& FlameGraph::operator=(FlameGraph&&) noexcept = default;

uint64_t FlameGraph::total() const {
    return root_->count;
}

bool FlameGraph::add(const std::vector<FlameFrame>& frames, uint64_t count) {
    if (count == 0) return true;
    if (count > max_folded_count || root_->count > max_folded_count - count) return false;
    Node* node = root_.get();
    node->count += count;
    for (const FlameFrame& frame : frames) {
        std::unique_ptr<Node>& child = node->children[{frame.name, frame.kind}];
        if (!child) {
            child = std::make_unique<Node>();
            child->name = frame.name;
            child->kind = frame.kind;
        }
        node = child.get();
        node->count += count;
    }
    return true;
}

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Undoes the escapes of corescope's folded form (append_folded_text: the
// terminal escapes of append_text_escaped, and \x3b for ';'), so that the
// SVG's own escaping shows the name as every other output does. A
// backslash that starts no such escape stays.
std::string unescape_folded(std::string_view s) {
    if (s.find('\\') == std::string_view::npos) return std::string(s);
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] != '\\' || i + 1 >= s.size()) {
            out += s[i];
            continue;
        }
        char next = s[i + 1];
        switch (next) {
        case '\\':
            out += '\\';
            i++;
            continue;
        case 'n':
            out += '\n';
            i++;
            continue;
        case 't':
            out += '\t';
            i++;
            continue;
        case 'r':
            out += '\r';
            i++;
            continue;
        case 'e':
            out += '\x1b';
            i++;
            continue;
        case 'x':
            if (i + 3 < s.size() && hex_digit(s[i + 2]) >= 0 && hex_digit(s[i + 3]) >= 0) {
                out += static_cast<char>(hex_digit(s[i + 2]) * 16 + hex_digit(s[i + 3]));
                i += 3;
                continue;
            }
            break;
        case 'u':
            // \u0080 to \u009f: a C1 control, two bytes of UTF-8.
            if (i + 5 < s.size() && s[i + 2] == '0' && s[i + 3] == '0' && s[i + 4] == '9' &&
                hex_digit(s[i + 5]) >= 0) {
                out += '\xc2';
                out += static_cast<char>(0x90 + hex_digit(s[i + 5]));
                i += 5;
                continue;
            }
            if (i + 5 < s.size() && s[i + 2] == '0' && s[i + 3] == '0' && s[i + 4] == '8' &&
                hex_digit(s[i + 5]) >= 0) {
                out += '\xc2';
                out += static_cast<char>(0x80 + hex_digit(s[i + 5]));
                i += 5;
                continue;
            }
            break;
        default:
            break;
        }
        out += '\\';
    }
    return out;
}

FrameKind kind_of(std::string& name, bool first) {
    auto suffix = [&](std::string_view s) {
        if (name.size() > s.size() && name.ends_with(s)) {
            name.resize(name.size() - s.size());
            return true;
        }
        return false;
    };
    if (suffix("_[k]")) return FrameKind::kernel;
    if (suffix("_[j]") || suffix("_[i]")) return FrameKind::user;
    if (name == "-" || name == "--") return FrameKind::separator;
    if (first) return FrameKind::process;
    if ((name.starts_with('[') && name.ends_with(']')) || name.starts_with("0x"))
        return FrameKind::unknown;
    return FrameKind::user;
}

} // namespace

std::optional<FoldedStack> parse_folded_line(std::string_view line, std::string* why,
                                             bool first_is_process) {
    auto fail = [&](const char* reason) -> std::optional<FoldedStack> {
        if (why) *why = reason;
        return std::nullopt;
    };
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
        line.remove_suffix(1);
    size_t space = line.find_last_of(" \t");
    if (space == std::string_view::npos) return fail("no count after the stack");
    std::string_view number = line.substr(space + 1);
    std::string_view stack = line.substr(0, space);
    while (!stack.empty() && (stack.back() == ' ' || stack.back() == '\t'))
        stack.remove_suffix(1);
    if (number.starts_with('-')) return fail("a negative count");
    uint64_t count = 0;
    auto [end, err] = std::from_chars(number.data(), number.data() + number.size(), count);
    if (err == std::errc::result_out_of_range) return fail("a count too large (2^53 at most)");
    if (err != std::errc() || end != number.data() + number.size())
        return fail("no count after the stack (a whole number)");
    if (count > max_folded_count) return fail("a count too large (2^53 at most)");
    if (stack.empty()) return fail("no frames before the count");
    FoldedStack folded;
    folded.count = count;
    size_t start = 0;
    while (start <= stack.size()) {
        size_t semi = stack.find(';', start);
        std::string_view piece =
            stack.substr(start, semi == std::string_view::npos ? semi : semi - start);
        if (folded.frames.size() == max_folded_frames) return fail("more than 4096 frames");
        FlameFrame frame;
        frame.name = unescape_folded(piece);
        if (frame.name.empty()) frame.name = "[empty]";
        frame.kind = kind_of(frame.name, first_is_process && folded.frames.empty());
        folded.frames.push_back(std::move(frame));
        if (semi == std::string_view::npos) break;
        start = semi + 1;
    }
    return folded;
}

namespace {

uint32_t name_hash(std::string_view name) {
    uint32_t h = 2166136261u; // FNV-1a
    for (unsigned char c : name) {
        h ^= c;
        h *= 16777619u;
    }
    // Mix the high bits down, so each channel below varies with the name.
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    return h;
}

} // namespace

std::string flame_colour(const FlameFrame& frame) {
    uint32_t h = name_hash(frame.name);
    unsigned a = h & 0xff, b = (h >> 8) & 0xff, c = (h >> 16) & 0xff;
    unsigned r = 0, g = 0, bl = 0;
    switch (frame.kind) {
    case FrameKind::user: // warm: red through orange to yellow
        r = 205 + a % 50;
        g = 60 + b % 170;
        bl = c % 55;
        break;
    case FrameKind::kernel: // cool: blue to aqua
        r = 40 + a % 70;
        g = 120 + b % 100;
        bl = 200 + c % 55;
        break;
    case FrameKind::process: // violet grey
        r = 160 + a % 40;
        g = 150 + a % 40;
        bl = 200 + b % 40;
        break;
    case FrameKind::separator:
        r = g = bl = 200;
        break;
    case FrameKind::unknown:
        r = g = 180 + a % 30;
        bl = 160 + a % 30;
        break;
    case FrameKind::root:
        r = g = bl = 225;
        break;
    }
    char out[32];
    std::snprintf(out, sizeof out, "rgb(%u,%u,%u)", r, g, bl);
    return out;
}

namespace {

constexpr double frame_height = 16;
constexpr double font_size = 12;
constexpr double font_width = 0.59; // of font_size: an average glyph's width
constexpr double pad_x = 10;
constexpr double pad_top = 56;    // the title line and the controls
constexpr double pad_bottom = 30; // the details line

const char* kind_class(FrameKind kind) {
    switch (kind) {
    case FrameKind::user:
        return "u";
    case FrameKind::kernel:
        return "k";
    case FrameKind::process:
        return "p";
    case FrameKind::separator:
        return "s";
    case FrameKind::unknown:
        return "x";
    case FrameKind::root:
        return "r";
    }
    return "u";
}

void append_fixed(std::string& out, double v) {
    char b[48];
    std::snprintf(b, sizeof b, "%.2f", v);
    out += b;
}

// The first `chars` characters of s (an invalid byte counts as one).
std::string_view utf8_prefix(std::string_view s, size_t chars) {
    size_t i = 0;
    while (i < s.size() && chars > 0) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        size_t j = 1;
        while (j < len && i + j < s.size() && (static_cast<unsigned char>(s[i + j]) & 0xc0) == 0x80)
            j++;
        i += j;
        chars--;
    }
    return s.substr(0, i);
}

size_t utf8_length(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s)
        n += (c & 0xc0) != 0x80;
    return n;
}

struct Renderer {
    const FlameOptions& options;
    uint64_t total;
    double scale; // pixels a count
    double height;
    size_t rows;
    std::string& out;

    double row_y(size_t depth) const {
        if (options.icicle) return pad_top + static_cast<double>(depth) * frame_height;
        return pad_top + static_cast<double>(rows - 1 - depth) * frame_height;
    }

    void label(const std::string& name, double width) {
        size_t fits = static_cast<size_t>(width / (font_size * font_width));
        if (fits < 3) return;
        if (utf8_length(name) <= fits) {
            append_markup_escaped(out, name);
            return;
        }
        append_markup_escaped(out, utf8_prefix(name, fits - 2));
        out += "..";
    }

    void frame(const FlameGraph::Node& node, size_t depth, uint64_t start) {
        double x = pad_x + static_cast<double>(start) * scale;
        double w = static_cast<double>(node.count) * scale;
        double y = row_y(depth);
        out += "<g class=\"f ";
        out += kind_class(node.kind);
        out += "\" data-s=\"";
        append_unsigned(out, start);
        out += "\" data-c=\"";
        append_unsigned(out, node.count);
        out += "\" data-d=\"";
        append_unsigned(out, depth);
        out += "\"><title>";
        append_markup_escaped(out, node.name);
        out += " (";
        append_unsigned(out, node.count);
        out += ' ';
        append_markup_escaped(out, options.count_name);
        out += ", ";
        append_fixed(
            out, total ? static_cast<double>(node.count) * 100.0 / static_cast<double>(total) : 0);
        out += "%)</title><rect x=\"";
        append_fixed(out, x);
        out += "\" y=\"";
        append_fixed(out, y);
        out += "\" width=\"";
        append_fixed(out, w);
        out += "\" height=\"";
        append_fixed(out, frame_height - 1);
        out += "\" fill=\"";
        out += flame_colour({node.name, node.kind});
        out += "\" rx=\"2\"/><text x=\"";
        append_fixed(out, x + 3);
        out += "\" y=\"";
        append_fixed(out, y + frame_height - 4.5);
        out += "\">";
        label(node.name, w - 6);
        out += "</text></g>\n";
    }

    // Iterative, depth first, children in order: no recursion however deep.
    void all(const FlameGraph::Node& root) {
        struct Item {
            const FlameGraph::Node* node;
            size_t depth;
            uint64_t start;
        };
        std::vector<Item> todo{{&root, 0, 0}};
        while (!todo.empty()) {
            Item item = todo.back();
            todo.pop_back();
            if (static_cast<double>(item.node->count) * scale < options.min_width) continue;
            frame(*item.node, item.depth, item.start);
            // Pushed in reverse, so they come out in order; each starts
            // where its elder siblings end.
            std::vector<Item> children;
            uint64_t at = item.start;
            for (const auto& [key, child] : item.node->children) {
                children.push_back({child.get(), item.depth + 1, at});
                at += child->count;
            }
            todo.insert(todo.end(), children.rbegin(), children.rend());
        }
    }
};

size_t deepest_row(const FlameGraph::Node& root, double scale, double min_width) {
    size_t deepest = 0;
    std::vector<std::pair<const FlameGraph::Node*, size_t>> todo{{&root, 0}};
    while (!todo.empty()) {
        auto [node, depth] = todo.back();
        todo.pop_back();
        if (static_cast<double>(node->count) * scale < min_width) continue;
        deepest = std::max(deepest, depth);
        for (const auto& [key, child] : node->children)
            todo.push_back({child.get(), depth + 1});
    }
    return deepest;
}

// The page's behaviour: zoom on click, search, the details line. Fixed
// text: nothing from the input is in it (the settings come as JSON, made
// safe by script_safe_json).
constexpr const char* script = R"JS(
"use strict";
(function () {
  var cfg = JSON.parse(document.getElementById("flame-config").textContent);
  var full = cfg.width - 2 * cfg.pad;
  var glyph = cfg.font_size * cfg.font_width;
  var frames = Array.prototype.slice.call(document.querySelectorAll("g.f"));
  var details = document.getElementById("details");
  var matched = document.getElementById("matched");
  var reset = document.getElementById("reset");
  var input = document.getElementById("search");
  var term = "";
  frames.forEach(function (g) {
    var r = g.querySelector("rect");
    g.fs = +g.getAttribute("data-s");
    g.fc = +g.getAttribute("data-c");
    g.fd = +g.getAttribute("data-d");
    g.fill = r.getAttribute("fill");
    g.info = g.querySelector("title").textContent;
    var cut = g.info.lastIndexOf(" (");
    g.fname = cut < 0 ? g.info : g.info.substring(0, cut);
    g.addEventListener("click", function () { zoom(g); });
    g.addEventListener("mouseover", function () { details.textContent = g.info; });
    g.addEventListener("mouseout", function () { details.textContent = " "; });
  });
  function place(g, x, w) {
    var r = g.querySelector("rect"), t = g.querySelector("text");
    r.setAttribute("x", x.toFixed(2));
    r.setAttribute("width", w.toFixed(2));
    t.setAttribute("x", (x + 3).toFixed(2));
    var fits = Math.floor((w - 6) / glyph);
    var name = g.fname;
    t.textContent = fits < 3 ? "" : name.length <= fits ? name : name.substring(0, fits - 2) + "..";
  }
  function zoom(target) {
    var s = target.fs, c = target.fc, d = target.fd, scale = full / c;
    frames.forEach(function (g) {
      g.classList.remove("parent");
      g.classList.remove("hide");
      if (g.fd < d) {
        if (g.fs <= s && g.fs + g.fc >= s + c) {
          g.classList.add("parent");
          place(g, cfg.pad, full);
        } else {
          g.classList.add("hide");
        }
        return;
      }
      var w = g.fc * scale;
      if (g.fs < s || g.fs + g.fc > s + c || w < cfg.min_width) {
        g.classList.add("hide");
        return;
      }
      place(g, cfg.pad + (g.fs - s) * scale, w);
    });
    reset.classList.toggle("hide", d === 0);
  }
  function search(text) {
    term = text;
    var needle = text.toLowerCase(), spans = [];
    frames.forEach(function (g) {
      var hit = needle !== "" && g.fd > 0 && g.fname.toLowerCase().indexOf(needle) >= 0;
      g.classList.toggle("match", hit);
      g.querySelector("rect").setAttribute("fill", hit ? "rgb(230,0,230)" : g.fill);
      if (hit) spans.push([g.fs, g.fs + g.fc]);
    });
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var covered = 0, end = -1;
    spans.forEach(function (p) {
      if (p[1] <= end) return;
      covered += p[1] - Math.max(p[0], end);
      end = p[1];
    });
    var share = cfg.total ? covered * 100 / cfg.total : 0;
    matched.textContent = needle === "" ? " " : "Matched: " + share.toFixed(2) + "%";
    return share;
  }
  window.flameSearch = search;
  window.flameZoom = function (i) { zoom(frames[i]); };
  input.addEventListener("input", function () { search(input.value); });
  reset.addEventListener("click", function () { zoom(frames[0]); });
  document.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === "f") { e.preventDefault(); input.focus(); }
    else if (e.key === "Escape" && frames.length) { input.value = ""; search(""); zoom(frames[0]); }
  });
})();
)JS";

constexpr const char* style = R"CSS(
text { font-family: Verdana, "DejaVu Sans", sans-serif; font-size: 12px; fill: #000; }
#title { font-size: 17px; text-anchor: middle; }
#details, #matched { font-size: 12px; }
#matched { text-anchor: end; }
#reset { cursor: pointer; fill: #225; text-decoration: underline; }
g.f { cursor: pointer; }
g.f text { pointer-events: none; }
g.f:hover rect { stroke: #000; stroke-width: 0.5; }
g.parent rect { opacity: 0.6; }
.hide { display: none; }
input { font: 12px Verdana, "DejaVu Sans", sans-serif; width: 210px; box-sizing: border-box; }
)CSS";

} // namespace

std::string FlameGraph::svg(const FlameOptions& options) const {
    unsigned width = std::clamp(options.width, min_flame_width, max_flame_width);
    uint64_t all = total();
    double scale = all ? (width - 2 * pad_x) / static_cast<double>(all) : 0;
    size_t rows = all ? deepest_row(*root_, scale, options.min_width) + 1 : 1;
    double height = pad_top + static_cast<double>(rows) * frame_height + pad_bottom;

    std::string out;
    out += "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n";
    out += "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"";
    append_unsigned(out, width);
    out += "\" height=\"";
    append_fixed(out, height);
    out += "\" viewBox=\"0 0 ";
    append_unsigned(out, width);
    out += ' ';
    append_fixed(out, height);
    out += "\">\n<title>";
    append_markup_escaped(out, options.title);
    out += "</title>\n<style>";
    out += style;
    out += "</style>\n";
    std::string config;
    JsonObject(config)
        .unsigned_number("total", all)
        .string("unit", options.count_name)
        .unsigned_number("width", width)
        .real("pad", pad_x, 2)
        .real("font_size", font_size, 2)
        .real("font_width", font_width, 2)
        .real("min_width", options.min_width, 3)
        .boolean("icicle", options.icicle)
        .end();
    out += "<script type=\"application/json\" id=\"flame-config\">";
    out += script_safe_json(config);
    out += "</script>\n";
    out += "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"rgb(250,250,245)\"/>\n";
    out += "<text id=\"title\" x=\"";
    append_fixed(out, width / 2.0);
    out += "\" y=\"24\">";
    append_markup_escaped(out, options.title);
    out += "</text>\n";
    out += "<text id=\"reset\" class=\"hide\" x=\"";
    append_fixed(out, pad_x);
    out += "\" y=\"46\">Reset zoom</text>\n";
    out += "<foreignObject x=\"";
    append_fixed(out, width - pad_x - 214);
    out += "\" y=\"30\" width=\"214\" height=\"22\"><input xmlns=\"http://www.w3.org/1999/xhtml\" "
           "id=\"search\" type=\"search\" placeholder=\"Search (Ctrl-F)\" "
           "autocomplete=\"off\"/></foreignObject>\n";
    out += "<text id=\"details\" x=\"";
    append_fixed(out, pad_x);
    out += "\" y=\"";
    append_fixed(out, height - 10);
    out += "\"> </text>\n<text id=\"matched\" x=\"";
    append_fixed(out, width - pad_x);
    out += "\" y=\"";
    append_fixed(out, height - 10);
    out += "\"> </text>\n";
    if (all == 0) {
        out += "<text x=\"";
        append_fixed(out, width / 2.0);
        out += "\" y=\"";
        append_fixed(out, pad_top + 12);
        out += "\" style=\"text-anchor:middle\">No stacks</text>\n";
    } else {
        out += "<g id=\"frames\">\n";
        Renderer{options, all, scale, height, rows, out}.all(*root_);
        out += "</g>\n";
    }
    out += "<script><![CDATA[";
    out += script;
    out += "]]></script>\n</svg>\n";
    return out;
}

} // namespace corescope
