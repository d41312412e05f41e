#include "histogram_printer.h"

#include "clock.h"

namespace corescope {

namespace {

RecordLayout histogram_layout(std::vector<Field> label_fields) {
    RecordLayout layout{0, {json_field("type"), json_field("time"), json_field("interval_s")}};
    layout.fields.insert(layout.fields.end(), label_fields.begin(), label_fields.end());
    for (const char* key : {"unit", "total", "p50", "p90", "p99", "buckets"})
        layout.fields.push_back(json_field(key));
    layout.text_header = false;
    return layout;
}

} // namespace

HistogramPrinter::HistogramPrinter(const CommonOptions& options, Output& out,
                                   std::vector<Field> label_fields, std::string unit)
    : records_(options, out, histogram_layout(std::move(label_fields))), unit_(std::move(unit)),
      last_s_(monotonic_seconds()) {}

void HistogramPrinter::begin_interval() {
    double now = monotonic_seconds();
    span_s_ = now - last_s_;
    last_s_ = now;
    time_ = iso_time_now();
    if (!records_.json() && records_.options().time) {
        append_wall_time(records_.output().buffer());
        records_.output().buffer() += '\n';
    }
}

void HistogramPrinter::end_json(Record& r, const Histogram& histogram) {
    r.text(unit_)
        .number(histogram.total())
        .number(histogram.quantile(0.50))
        .number(histogram.quantile(0.90))
        .number(histogram.quantile(0.99))
        .formatted(histogram_buckets_json(histogram))
        .end();
}

void HistogramPrinter::print_text(const std::string& label, const Histogram& histogram) {
    std::string& b = records_.output().buffer();
    if (!label.empty()) b += label + '\n';
    b += render_histogram_text(histogram, unit_);
    b += '\n';
    records_.output().end_record();
}

} // namespace corescope
