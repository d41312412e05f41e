#include "exposition.h"

#include "utf8_sequence.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace corescope {

std::string_view exposition_content_type(ExpositionFormat format) {
    if (format == ExpositionFormat::openmetrics)
        return "application/openmetrics-text; version=1.0.0; charset=utf-8";
    return "text/plain; version=0.0.4; charset=utf-8";
}

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool equal_nocase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); i++) {
        unsigned char x = static_cast<unsigned char>(a[i]);
        unsigned char y = static_cast<unsigned char>(b[i]);
        if (x >= 'A' && x <= 'Z') x += 'a' - 'A';
        if (y >= 'A' && y <= 'Z') y += 'a' - 'A';
        if (x != y) return false;
    }
    return true;
}

// A q-value: 0 to 1, at most three decimals (RFC 9110); anything else 0.
double parse_q(std::string_view v) {
    v = trim(v);
    if (v.empty() || v.size() > 5) return 0;
    double q = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), q);
    if (ec != std::errc() || end != v.data() + v.size() || !(q >= 0) || q > 1) return 0;
    return q;
}

} // namespace

ExpositionFormat format_from_accept(std::string_view accept) {
    double best_openmetrics = 0, best_text = 0;
    while (!accept.empty()) {
        size_t comma = accept.find(',');
        std::string_view range = accept.substr(0, comma);
        accept.remove_prefix(comma == std::string_view::npos ? accept.size() : comma + 1);
        std::string_view type = trim(range.substr(0, range.find(';')));
        double q = 1;
        bool version_ok = true; // OpenMetrics: version 1.0.0 or none named
        size_t semi = range.find(';');
        while (semi != std::string_view::npos) {
            range.remove_prefix(semi + 1);
            semi = range.find(';');
            std::string_view param = range.substr(0, semi);
            size_t eq = param.find('=');
            if (eq == std::string_view::npos) continue;
            std::string_view key = trim(param.substr(0, eq));
            std::string_view value = trim(param.substr(eq + 1));
            if (equal_nocase(key, "q")) q = parse_q(value);
            if (equal_nocase(key, "version")) version_ok = value == "1.0.0";
        }
        if (equal_nocase(type, "application/openmetrics-text") && version_ok)
            best_openmetrics = std::max(best_openmetrics, q);
        else if (equal_nocase(type, "text/plain") || equal_nocase(type, "text/*") ||
                 equal_nocase(type, "*/*"))
            best_text = std::max(best_text, q);
    }
    return best_openmetrics > 0 && best_openmetrics >= best_text ? ExpositionFormat::openmetrics
                                                                 : ExpositionFormat::text;
}

double log2_slot_upper_bound(size_t slot, double unit_seconds) {
    return std::ldexp(unit_seconds, static_cast<int>(slot) + 1);
}

HistogramValue log2_histogram(const std::vector<uint64_t>& slots, double unit_seconds,
                              double sum_seconds) {
    HistogramValue h;
    h.sum = sum_seconds;
    if (slots.empty()) {
        h.counts = {0};
        return h;
    }
    // Every slot but the last has a true upper bound; the last one also
    // holds what lies above it, so it is only in +Inf.
    for (size_t i = 0; i + 1 < slots.size(); i++) {
        h.bounds.push_back(log2_slot_upper_bound(i, unit_seconds));
        h.counts.push_back(slots[i]);
    }
    h.counts.push_back(slots.back());
    return h;
}

std::string prometheus_number(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    if (value == 0) return std::signbit(value) ? "-0" : "0";
    // The shortest digits that read back exactly, in scientific form.
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
    if (ec != std::errc()) return "NaN";
    std::string_view sci(buf, static_cast<size_t>(end - buf));
    size_t e = sci.find('e');
    int exponent = std::atoi(std::string(sci.substr(e + 1)).c_str());
    std::string_view mantissa = sci.substr(0, e);
    bool negative = mantissa.front() == '-';
    if (negative) mantissa.remove_prefix(1);
    std::string digits;
    for (char c : mantissa)
        if (c != '.') digits += c;
    std::string out = negative ? "-" : "";
    // Go's %g with the shortest precision: an exponent below -4 or from 6
    // (1e+06, 1.048576e+06; 0.000128, 1.6e-05).
    if (exponent < -4 || exponent >= 6) {
        out += digits.substr(0, 1);
        if (digits.size() > 1) out += "." + digits.substr(1);
        char exp[16];
        std::snprintf(exp, sizeof exp, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
        return out + exp;
    }
    if (exponent < 0)
        return out + "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    size_t int_digits = static_cast<size_t>(exponent) + 1;
    if (digits.size() <= int_digits)
        return out + digits + std::string(int_digits - digits.size(), '0');
    return out + digits.substr(0, int_digits) + "." + digits.substr(int_digits);
}

namespace {

// Escapes the backslash, the newline and (quote) the double quote; bytes
// that are not UTF-8 become U+FFFD, since both formats are UTF-8.
void append_escaped(std::string& out, std::string_view s, bool quote) {
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"' && quote) {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c < 0x80) {
            out += static_cast<char>(c);
        } else if (size_t len = utf8_sequence_length(s, i)) {
            out.append(s.substr(i, len));
            i += len;
            continue;
        } else {
            out += "\xef\xbf\xbd";
        }
        i++;
    }
}

} // namespace

void append_label_value(std::string& out, std::string_view value) {
    append_escaped(out, value, true);
}

void append_help_text(std::string& out, std::string_view text, ExpositionFormat format) {
    append_escaped(out, text, format == ExpositionFormat::openmetrics);
}

MetricFamily::MetricFamily(std::string name, MetricType type, std::string help, std::string unit)
    : name_(std::move(name)), type_(type), help_(std::move(help)), unit_(std::move(unit)) {}

void MetricFamily::add(const Labels& labels, double value) {
    auto [it, fresh] = series_.try_emplace(labels);
    if (type_ == MetricType::gauge || fresh)
        it->second.value = value;
    else
        it->second.value += value;
}

void MetricFamily::add(const Labels& labels, const HistogramValue& histogram) {
    auto [it, fresh] = series_.try_emplace(labels);
    Series from;
    from.histogram = histogram;
    if (fresh)
        it->second = std::move(from);
    else
        merge(it->second, from, type_);
}

void MetricFamily::merge(Series& into, const Series& from, MetricType type) {
    if (type != MetricType::histogram) {
        into.value = type == MetricType::gauge ? from.value : into.value + from.value;
        return;
    }
    HistogramValue& h = into.histogram;
    const HistogramValue& f = from.histogram;
    if (h.counts.empty()) {
        h = f;
        return;
    }
    h.sum += f.sum;
    if (h.bounds == f.bounds) {
        for (size_t i = 0; i < h.counts.size() && i < f.counts.size(); i++)
            h.counts[i] += f.counts[i];
        return;
    }
    // Different layouts (never within one collector): each count goes to the
    // first bucket whose bound holds the other's bound, else to +Inf.
    for (size_t i = 0; i < f.counts.size(); i++) {
        size_t to = h.bounds.size();
        if (i < f.bounds.size())
            to = static_cast<size_t>(
                std::lower_bound(h.bounds.begin(), h.bounds.end(), f.bounds[i]) - h.bounds.begin());
        h.counts[to] += f.counts[i];
    }
}

namespace {

void append_labels(std::string& out, const Labels& labels, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
    if (labels.empty() && extra_name.empty()) return;
    out += '{';
    bool first = true;
    for (const auto& [name, value] : labels) {
        if (!first) out += ',';
        first = false;
        out += name;
        out += "=\"";
        append_label_value(out, value);
        out += '"';
    }
    if (!extra_name.empty()) {
        if (!first) out += ',';
        out += extra_name;
        out += "=\"";
        out += extra_value;
        out += '"';
    }
    out += '}';
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   const Labels& labels, const std::string& value, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
    out += name;
    out += suffix;
    append_labels(out, labels, extra_name, extra_value);
    out += ' ';
    out += value;
    out += '\n';
}

std::string count_text(uint64_t v) {
    return std::to_string(v);
}

} // namespace

void MetricFamily::render_series(std::string& out, ExpositionFormat format, const Labels& labels,
                                 const Series& series) const {
    (void)format;
    switch (type_) {
    case MetricType::counter:
        append_sample(out, name_, "_total", labels, prometheus_number(series.value));
        return;
    case MetricType::gauge:
        append_sample(out, name_, "", labels, prometheus_number(series.value));
        return;
    case MetricType::histogram: {
        const HistogramValue& h = series.histogram;
        uint64_t cumulative = 0;
        for (size_t i = 0; i < h.bounds.size(); i++) {
            cumulative += i < h.counts.size() ? h.counts[i] : 0;
            append_sample(out, name_, "_bucket", labels, count_text(cumulative), "le",
                          prometheus_number(h.bounds[i]));
        }
        if (h.counts.size() > h.bounds.size()) cumulative += h.counts[h.bounds.size()];
        append_sample(out, name_, "_bucket", labels, count_text(cumulative), "le", "+Inf");
        append_sample(out, name_, "_sum", labels, prometheus_number(h.sum));
        append_sample(out, name_, "_count", labels, count_text(cumulative));
        return;
    }
    }
}

void MetricFamily::render(std::string& out, ExpositionFormat format) const {
    bool om = format == ExpositionFormat::openmetrics;
    // Text 0.0.4 names a counter's family with its _total; OpenMetrics
    // without.
    std::string family = name_;
    if (type_ == MetricType::counter && !om) family += "_total";
    out += "# HELP " + family + " ";
    append_help_text(out, help_, format);
    out += "\n# TYPE " + family + " ";
    out += type_ == MetricType::counter ? "counter"
           : type_ == MetricType::gauge ? "gauge"
                                        : "histogram";
    out += '\n';
    if (om && !unit_.empty()) out += "# UNIT " + family + " " + unit_ + "\n";
    if (series_.size() <= max_series_) {
        for (const auto& [labels, series] : series_)
            render_series(out, format, labels, series);
        return;
    }
    // Over the cap: the first max - 1 label sets, then one overflow series
    // holding the rest, in its place in the label order.
    Labels overflow_labels;
    Series overflow;
    size_t kept = 0;
    std::vector<std::pair<const Labels*, const Series*>> shown;
    for (const auto& [labels, series] : series_) {
        if (kept + 1 < max_series_) {
            shown.push_back({&labels, &series});
            kept++;
            continue;
        }
        if (overflow_labels.empty() && !labels.empty())
            for (const auto& label : labels)
                overflow_labels.push_back({label.first, std::string(overflow_value)});
        merge(overflow, series, type_ == MetricType::gauge ? MetricType::counter : type_);
    }
    shown.push_back({&overflow_labels, &overflow});
    std::sort(shown.begin(), shown.end(),
              [](const auto& a, const auto& b) { return *a.first < *b.first; });
    for (const auto& [labels, series] : shown)
        render_series(out, format, *labels, *series);
}

MetricFamily& Exposition::family(const std::string& name, MetricType type, const std::string& help,
                                 const std::string& unit) {
    auto it = families_.find(name);
    if (it == families_.end()) {
        it = families_.emplace(name, MetricFamily(name, type, help, unit)).first;
        it->second.set_max_series(max_series_);
    }
    return it->second;
}

std::string Exposition::render(ExpositionFormat format) const {
    std::string out;
    for (const auto& [name, family] : families_)
        family.render(out, format);
    if (format == ExpositionFormat::openmetrics) out += "# EOF\n";
    return out;
}

} // namespace corescope
