// Keyed log2 histograms, printed every interval as every histogram tool
// does: in text the time line (-T), then each histogram's label line (if it
// has one) and the classic bars; in JSON one record per histogram: type,
// time, interval_s, the label's fields (the tool's RecordLayout fields),
// then unit, total, p50, p90, p99 and the buckets.
#pragma once

#include "histogram.h"
#include "record.h"

#include <string>
#include <vector>

namespace corescope {

class HistogramPrinter {
  public:
    // label_fields: the JSON fields that tell one histogram from another
    // (a PID, a disk); unit: "usecs", "msecs", "nsecs", "bytes"...
    HistogramPrinter(const CommonOptions& options, Output& out, std::vector<Field> label_fields,
                     std::string unit);

    // Starts an interval: the -T time line in text; the time and the span
    // since the last interval for the JSON records.
    void begin_interval();
    // One histogram. fill(Record&) fills the label fields in order;
    // text_label() is the text line above the bars ("" for none), only
    // called for text. An empty histogram prints nothing in text (an idle
    // interval shows only its time line) and a record with total 0 in JSON.
    template <class Fill, class Label>
    void print(const Histogram& histogram, Fill&& fill, Label&& text_label) {
        if (records_.json()) {
            Record r = records_.begin();
            r.text("histogram").text(time_).real(span_s_);
            fill(r);
            end_json(r, histogram);
        } else if (!histogram.empty()) {
            print_text(text_label(), histogram);
        }
    }
    const std::string& unit() const { return unit_; }

  private:
    void end_json(Record& r, const Histogram& histogram);
    void print_text(const std::string& label, const Histogram& histogram);

    RecordWriter records_;
    std::string unit_;
    std::string time_;
    double last_s_;
    double span_s_ = 0;
};

} // namespace corescope
