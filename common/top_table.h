// What the top-like tools (tcptop, filetop, dirtop, biotop, slabratetop, cachetop)
// share: -C and -r ROWS, and each interval a table ranked and cut to ROWS,
// redrawn like top on a terminal under a line with the time and the load
// average, as lines in a pipe, and in JSON one record per interval that
// opens with time, interval_s and loadavg, then the tool's totals and the
// rows under "entries".
#pragma once

#include "cli.h"
#include "table_printer.h"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

namespace corescope {

struct TopOptions {
    bool no_clear = false; // -C
    uint64_t rows = 20;    // -r; 0: all
};

// -C, and -r ROWS under the long name the classic tool gives it; what: the
// rows, for the help ("files").
void add_top_flags(CommandLine& cli, TopOptions& top, const std::string& rows_long_name,
                   const std::string& what);

// Redrawn like top: text, to a terminal, without -C.
bool top_clears_screen(const CommonOptions& options, const TopOptions& top);

// The load average line's figures: /proc/loadavg's, or for decoders (whose
// output must not change) fixed_load_average.
using LoadAverage = std::function<std::string()>;
std::string fixed_load_average();

class TopTable {
  public:
    // totals: the table record's fields after time, interval_s and loadavg.
    // load_line false (tcptop -S): no time and load average line, and
    // loadavg absent.
    TopTable(const CommonOptions& options, Output& out, const TopOptions& top, bool clear,
             RecordLayout rows, std::vector<Field> totals, LoadAverage load, bool load_line = true);

    // Sorts the rows (before(a, b): a goes first) and keeps the first -r;
    // returns how many there were.
    template <class Row, class Before>
    size_t rank(std::vector<Row>& rows, Before before) const {
        size_t all = rows.size();
        std::sort(rows.begin(), rows.end(), before);
        if (rows_ && rows.size() > rows_) rows.resize(rows_);
        return all;
    }

    bool json() const { return table_.json(); }
    // Starts an interval's table. headline: text only, a line of the
    // tool's own under the load average line (or instead of it: cachetop's
    // memory figures); end it with '\n'.
    void begin(std::string_view headline = {});
    // One row: fill the row layout's fields and end() it.
    Record row() { return table_.row(); }
    // Ends the table: fill the totals (in JSON only).
    template <class Fill>
    void end(Fill&& fill) {
        table_.end([&](Record& r) {
            r.text(iso_time_now()).real(interval_s_);
            if (load_line_)
                r.text(load_);
            else
                r.absent();
            fill(r);
        });
    }

  private:
    uint64_t rows_;
    bool clear_;
    bool load_line_;
    LoadAverage load_average_;
    TablePrinter table_;
    double last_;
    double interval_s_ = 0;
    std::string load_;
};

} // namespace corescope
