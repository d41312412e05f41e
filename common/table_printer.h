// A summary table, printed every interval: in text a blank line between
// tables, the time ([HH:MM:SS], with -T), the header and one line per row;
// in JSON one record per table, the tool's own fields (the interval's time,
// totals, ...) and then its rows as an array of objects under "entries".
#pragma once

#include "record.h"

#include <string>
#include <string_view>

namespace corescope {

class TablePrinter {
  public:
    TablePrinter(const CommonOptions& options, Output& out, RecordLayout rows, RecordLayout table);

    // Starts a table. preamble: in text only, written as it is after the
    // blank line between tables and before the time and the header (tcptop's
    // clear-screen and load average line; end a line with '\n').
    void begin(std::string_view preamble = {});
    bool json() const { return rows_.json(); }
    // One row: fill the row layout's fields and end() it.
    Record row();
    // Ends the table: fill the table layout's fields, then call end() on
    // what this returns... in JSON the record gets "entries" last.
    template <class Fill>
    void end(Fill&& fill) {
        if (!tables_.json()) return;
        Record r = tables_.begin();
        fill(r);
        entries_ += ']';
        r.formatted(entries_).end();
    }

  private:
    RecordWriter rows_;
    RecordWriter tables_;
    std::string entries_;
    bool first_table_ = true;
};

} // namespace corescope
