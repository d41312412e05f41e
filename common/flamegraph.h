// Flame graphs drawn by corescope itself: folded stacks (frames root
// first, `;`-separated, then a count) into one self-contained interactive
// SVG: inline CSS and JavaScript, no external resource of any kind. Frames
// are rectangles as wide as their share of the total; a click zooms, a
// search box highlights the frames whose name contains the text and says
// what share they cover, each frame's <title> is its tooltip (full name,
// count, percentage). Colours come from a hash of the name, in a family per
// kind of frame (user warm, kernel blue), so two graphs of the same
// workload can be compared. Every name goes through append_markup_escaped
// (common/markup.h): no name can inject markup or script.
//
// The stack tools' -o svg (common/stacks.h) and `corescope flamegraph`
// (frontend/flamegraph_command.cpp) both render through here.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corescope {

enum class FrameKind : uint8_t {
    user,      // a user-space function (the default)
    kernel,    // a kernel function (folded `name_[k]`, as stackcollapse-perf --all writes)
    process,   // the first frame: the command or thread the stack belongs to
    separator, // `-` or `--` between two halves (offwaketime's waker and woken)
    unknown,   // `[unknown]`, `[missed ... stack]`, a bare address
    root,      // the "all" frame the renderer adds below every stack
};

struct FlameFrame {
    std::string name;
    FrameKind kind = FrameKind::user;
};

// One folded line's frames, root first, and its count.
struct FoldedStack {
    std::vector<FlameFrame> frames;
    uint64_t count = 0;
};

// The largest count one line may carry, and the largest total: counts stay
// exact as JavaScript numbers.
inline constexpr uint64_t max_folded_count = 1ULL << 53;
// The deepest stack a line may have.
inline constexpr size_t max_folded_frames = 4096;

// One folded line: "frame;frame;... COUNT" (spaces or tabs before the
// count; a name may contain spaces). Kinds: a `_[k]` suffix is a kernel
// frame (`_[j]`, `_[i]`: user, jitted or inlined; the suffix goes), the
// first frame is the process, `-`/`--` a separator, `[...]` and 0x...
// addresses unknown. The escapes corescope's folded form writes (\x3b for
// ';', \\, \n, \xNN...) are undone, so the SVG shows the name once escaped.
// Returns nullopt, with why, for a line that is not a folded stack.
// first_is_process false: the first frame is a function like the rest
// (stackcount's folded form without -P).
std::optional<FoldedStack> parse_folded_line(std::string_view line, std::string* why = nullptr,
                                             bool first_is_process = true);

struct FlameOptions {
    std::string title = "Flame Graph";
    std::string count_name = "samples"; // the unit of a count: samples, us, bytes...
    bool icicle = false;                // root at the top, stacks growing down
    unsigned width = 1200;              // pixels
    double min_width = 0.1;             // frames narrower (pixels) are left out
};

inline constexpr unsigned min_flame_width = 200;
inline constexpr unsigned max_flame_width = 100000;

class FlameGraph {
  public:
    FlameGraph();
    ~FlameGraph();
    FlameGraph(FlameGraph&&) noexcept;
    FlameGraph& operator=(FlameGraph&&) noexcept;

    // Adds a stack (frames root first); equal stacks add up. Returns false
    // (and adds nothing) when the total would pass max_folded_count.
    bool add(const std::vector<FlameFrame>& frames, uint64_t count);
    bool add(const FoldedStack& stack) { return add(stack.frames, stack.count); }
    uint64_t total() const;
    bool empty() const { return total() == 0; }

    // The whole SVG document. An empty graph is a valid SVG that says so.
    std::string svg(const FlameOptions& options) const;

    struct Node;

  private:
    std::unique_ptr<Node> root_;
};

// Folded text, one stack a line (blank lines and lines starting with '#'
// skipped), into a graph; each line that is not a folded stack is reported
// through bad(line_number, line, why) and skipped.
template <class Bad>
FlameGraph flame_graph_from_folded(std::string_view text, Bad&& bad, bool first_is_process = true) {
    FlameGraph graph;
    size_t number = 0;
    while (!text.empty()) {
        size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        number++;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        size_t first = line.find_first_not_of(" \t");
        if (first == std::string_view::npos || line[first] == '#') continue;
        std::string why;
        std::optional<FoldedStack> stack = parse_folded_line(line, &why, first_is_process);
        if (stack && !graph.add(*stack)) {
            why = "the total passes 2^53";
            stack.reset();
        }
        if (!stack) bad(number, line, why);
    }
    return graph;
}

// A frame's fill colour: a hash of its name within its kind's family.
std::string flame_colour(const FlameFrame& frame);

} // namespace corescope
