#include "flamegraph_command.h"

#include "cli.h"
#include "errors.h"
#include "flamegraph.h"
#include "output.h"
#include "tool.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace corescope {

namespace {

// The whole of fd; throws RuntimeError naming what on a read error.
std::string read_all(int fd, const std::string& what) {
    std::string text;
    char buffer[65536];
    for (;;) {
        ssize_t n = read(fd, buffer, sizeof buffer);
        if (n == 0) return text;
        if (n < 0) {
            if (errno == EINTR) continue;
            throw RuntimeError("cannot read " + what + ": " + std::strerror(errno));
        }
        text.append(buffer, static_cast<size_t>(n));
    }
}

// At most this many bad lines are named one by one; then a count.
constexpr size_t named_bad_lines = 5;

} // namespace

int flamegraph_command(int argc, char** argv) {
    CommonOptions options;
    FlameOptions flame;
    std::string file;
    bool title_given = false;
    CommandLine cli("corescope flamegraph",
                    "Draw folded stacks (a file, or stdin) as an interactive SVG flame graph.", {});
    cli.allow_svg();
    cli.add_option(0, "title", "TEXT", "the graph's title (default: Flame Graph, or FILE's name)",
                   [&](std::string_view v) {
                       flame.title = std::string(v);
                       title_given = true;
                   });
    cli.add_switch(0, "icicle", "root at the top, stacks growing down", &flame.icicle);
    cli.add_number(0, "width", "PIXELS",
                   "the image's width (default 1200, " + std::to_string(min_flame_width) + " to " +
                       std::to_string(max_flame_width) + ")",
                   &flame.width, min_flame_width, max_flame_width);
    cli.add_text(0, "countname", "UNIT", "what a count counts: samples (the default), us, bytes...",
                 &flame.count_name);
    cli.set_positional("FILE", "folded stacks, one a line (default: stdin; - is stdin)",
                       [&](std::string_view v) { file = std::string(v); });
    cli.set_examples(
        "  profile -f -d 10 > cpu.folded; corescope flamegraph cpu.folded > cpu.svg\n"
        "  perf script | stackcollapse-perf.pl | corescope flamegraph > perf.svg\n"
        "  corescope flamegraph --countname us --title 'off-CPU' off.folded > off.svg\n"
        "  corescope flamegraph --icicle --width 1800 < stacks.folded > icicle.svg");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (options.format == OutputFormat::json)
        throw UsageError("invalid output format 'json': corescope flamegraph writes svg");

    std::string text;
    if (file.empty() || file == "-") {
        text = read_all(STDIN_FILENO, "stdin");
    } else {
        int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            throw UsageError("cannot open " + ("'" + file + "'") + ": " + std::strerror(errno));
        try {
            text = read_all(fd, ("'" + file + "'"));
        } catch (...) {
            close(fd);
            throw;
        }
        close(fd);
        if (!title_given) flame.title = file.substr(file.rfind('/') + 1);
    }

    std::string where = file.empty() || file == "-" ? "stdin" : file;
    size_t bad = 0;
    FlameGraph graph = flame_graph_from_folded(
        text, [&](size_t number, std::string_view line, const std::string& why) {
            if (++bad <= named_bad_lines) {
                std::string shown(line.substr(0, 80));
                warn("%s line %zu skipped: %s: %s%s", text_escaped(where).c_str(), number,
                     why.c_str(), text_escaped(shown).c_str(), line.size() > 80 ? "..." : "");
            }
        });
    if (bad > named_bad_lines) warn("%zu lines skipped in all (not folded stacks)", bad);
    if (graph.empty() && bad > 0)
        throw UsageError("no folded stack in " + where +
                         ": each line must be "
                         "'frame;frame;... COUNT'");
    Output out;
    out.buffer() = graph.svg(flame);
    out.flush();
    out.check();
    return exit_ok;
}

} // namespace corescope
