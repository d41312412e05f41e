// Metrics in the Prometheus exposition formats, for `corescope export`:
// families of counters, gauges and histograms, rendered as the text format
// 0.0.4 or as OpenMetrics 1.0, in a deterministic order (families by name,
// series by their labels), with a cap on the series of each family.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corescope {

enum class ExpositionFormat { text, openmetrics };

// The Content-Type each format requires.
std::string_view exposition_content_type(ExpositionFormat format);

// The format a scraper asks for in its Accept header: OpenMetrics 1.0.0
// when it prefers it (by q-value; a version other than 1.0.0 does not
// count), else the text format.
ExpositionFormat format_from_accept(std::string_view accept);

enum class MetricType { counter, gauge, histogram };

// Label names and values, in the order given (which is the order printed).
using Labels = std::vector<std::pair<std::string, std::string>>;

// A histogram's buckets: the finite upper bounds, ascending, and the count of
// each bucket alone (not cumulative), with one more count at the end for the
// values above the last bound. The writer makes them cumulative.
struct HistogramValue {
    std::vector<double> bounds;
    std::vector<uint64_t> counts; // bounds.size() + 1
    double sum = 0;
};

// A log2 histogram's slots (common/histogram.h: slot i holds the values v
// with floor(log2 v) == i, slot 0 also 0, the last slot also everything
// above) in units of unit_seconds, as Prometheus buckets: slot i's upper
// bound is 2^(i+1) units (every value it holds is below that), the last
// slot only in +Inf. sum_seconds is the kernel's sum, already in seconds.
HistogramValue log2_histogram(const std::vector<uint64_t>& slots, double unit_seconds,
                              double sum_seconds);
// The upper bound of log2 slot i in seconds: 2^(i+1) * unit_seconds.
double log2_slot_upper_bound(size_t slot, double unit_seconds);

// A number as Go's strconv.FormatFloat(v, 'g', -1, 64) writes it (what
// Prometheus' own clients print, and the `le` values it expects): the
// shortest form that reads back exactly, with an exponent below 1e-4 and
// from 1e6 (1.6e-05, 0.000128, 1.048576e+06); "+Inf", "-Inf", "NaN".
std::string prometheus_number(double value);

class MetricFamily {
  public:
    // name: without the `_total` of a counter (the writer adds it) and with
    // its unit (corescope_runqueue_latency_seconds, unit "seconds").
    MetricFamily(std::string name, MetricType type, std::string help, std::string unit = {});

    // One series; a label set added twice adds up (counters, histograms)
    // or replaces (gauges).
    void add(const Labels& labels, double value);
    void add(const Labels& labels, const HistogramValue& histogram);

    // At most this many series are printed (default 500): past it, the label
    // sets after the first max - 1 (in label order) are summed into one
    // series whose label values are all overflow_value.
    void set_max_series(size_t max) { max_series_ = max < 1 ? 1 : max; }
    static constexpr std::string_view overflow_value = "__overflow__";

    const std::string& name() const { return name_; }
    MetricType type() const { return type_; }
    size_t series_count() const { return series_.size(); }

    void render(std::string& out, ExpositionFormat format) const;

  private:
    struct Series {
        double value = 0;
        HistogramValue histogram;
    };
    static void merge(Series& into, const Series& from, MetricType type);
    void render_series(std::string& out, ExpositionFormat format, const Labels& labels,
                       const Series& series) const;

    std::string name_;
    MetricType type_;
    std::string help_;
    std::string unit_;
    size_t max_series_ = 500;
    std::map<Labels, Series> series_;
};

// Every family of one scrape.
class Exposition {
  public:
    // max_series: each family's cap (MetricFamily::set_max_series).
    explicit Exposition(size_t max_series = 500) : max_series_(max_series) {}
    // The family of that name, made on first use (a later call with the same
    // name returns it, whatever its other arguments).
    MetricFamily& family(const std::string& name, MetricType type, const std::string& help,
                         const std::string& unit = {});
    // Families sorted by name; OpenMetrics ends with "# EOF".
    std::string render(ExpositionFormat format) const;

  private:
    size_t max_series_;
    std::map<std::string, MetricFamily> families_;
};

// Escaping: label values (backslash, double quote, newline) and HELP text
// (backslash and newline; OpenMetrics also the double quote).
void append_label_value(std::string& out, std::string_view value);
void append_help_text(std::string& out, std::string_view text, ExpositionFormat format);

} // namespace corescope
