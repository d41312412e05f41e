#include "table_printer.h"

namespace corescope {

namespace {

RecordLayout without_time(RecordLayout rows) {
    rows.time_prefix = false;
    return rows;
}

RecordLayout with_entries(RecordLayout table) {
    table.fields.push_back(json_field("entries"));
    table.text_header = false;
    return table;
}

} // namespace

TablePrinter::TablePrinter(const CommonOptions& options, Output& out, RecordLayout rows,
                           RecordLayout table)
    : rows_(options, out, without_time(std::move(rows))),
      tables_(options, out, with_entries(std::move(table))) {}

void TablePrinter::begin(std::string_view preamble) {
    if (rows_.json()) {
        entries_.assign(1, '[');
        return;
    }
    std::string& b = rows_.output().buffer();
    if (!first_table_) b += '\n';
    first_table_ = false;
    b += preamble;
    if (rows_.options().time) {
        b += '[';
        append_wall_time(b);
        b += "]\n";
    }
    rows_.header();
}

Record TablePrinter::row() {
    if (!rows_.json()) return rows_.begin();
    if (entries_.size() > 1) entries_ += ',';
    return rows_.begin_in(entries_);
}

} // namespace corescope
