#include "top_table.h"

#include "clock.h"
#include "output.h"

#include <unistd.h>

namespace corescope {

namespace {

RecordLayout table_layout(std::vector<Field> totals) {
    RecordLayout layout{0, {json_field("time"), json_field("interval_s"), json_field("loadavg")}};
    layout.fields.insert(layout.fields.end(), totals.begin(), totals.end());
    return layout;
}

} // namespace

void add_top_flags(CommandLine& cli, TopOptions& top, const std::string& rows_long_name,
                   const std::string& what) {
    cli.add_switch('C', "noclear", "do not clear the screen between intervals", &top.no_clear);
    cli.add_number('r', rows_long_name, "ROWS",
                   "print at most ROWS " + what + " (default 20; 0 for all)", &top.rows, 0,
                   1000000);
}

bool top_clears_screen(const CommonOptions& options, const TopOptions& top) {
    return !top.no_clear && options.format == OutputFormat::text && isatty(1);
}

std::string fixed_load_average() {
    return "0.50 0.25 0.10 2/300 4242";
}

TopTable::TopTable(const CommonOptions& options, Output& out, const TopOptions& top, bool clear,
                   RecordLayout rows, std::vector<Field> totals, LoadAverage load, bool load_line)
    : rows_(top.rows), clear_(clear), load_line_(load_line), load_average_(std::move(load)),
      table_(options, out, std::move(rows), table_layout(std::move(totals))),
      last_(monotonic_seconds()) {}

void TopTable::begin(std::string_view headline) {
    double now = monotonic_seconds();
    interval_s_ = now - last_;
    last_ = now;
    load_ = load_line_ ? load_average_() : std::string();
    std::string preamble;
    if (!table_.json()) {
        if (clear_) preamble = "\033[H\033[2J";
        if (load_line_) {
            append_wall_time(preamble);
            preamble += " loadavg: " + load_ + "\n";
        }
        preamble += headline;
    }
    table_.begin(preamble);
}

} // namespace corescope
