#include "record.h"

#include "filters.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace corescope {

namespace {

// -T's TIME and -U's UID open a text line, in that order.
constexpr Field time_prefix = text_column("TIME", 8);
constexpr Field uid_prefix = text_column("UID", 7);

bool text_shows(const Field& f) {
    return f.shown && !f.header.empty();
}
bool json_shows(const Field& f) {
    return f.shown && !f.key.empty() && f.from == From::tool;
}

void append_json_key(std::string& b, bool& first, std::string_view key) {
    if (!first) b += ',';
    first = false;
    b += '"';
    b.append(key);
    b += "\":";
}

} // namespace

RecordWriter::RecordWriter(const CommonOptions& options, Output& out, RecordLayout layout)
    : options_(options), out_(out), layout_(std::move(layout)),
      json_(options.format == OutputFormat::json), show_time_(options.time && layout_.time_prefix),
      show_uid_(options.print_uid) {
    for (size_t i = 0; i < layout_.fields.size(); i++) {
        const Field& f = layout_.fields[i];
        if (text_shows(f)) last_text_column_ = i;
        if (f.from != From::tool)
            steps_.push_back(!json_ && text_shows(f) ? task_shown : task_hidden);
        else
            steps_.push_back((json_ ? json_shows(f) : text_shows(f)) ? shown : hidden);
    }
    steps_.push_back(end_of_fields);
}

void RecordWriter::header() {
    if (json_ || !layout_.text_header) return;
    std::string& b = out_.buffer();
    bool first = true;
    auto column = [&](const Field& f, bool last) {
        if (!first) b += ' ';
        first = false;
        if (f.align == Align::right && static_cast<int>(f.header.size()) < f.width)
            b.append(f.width - f.header.size(), ' ');
        b.append(f.header);
        if (f.align == Align::left && !last && static_cast<int>(f.header.size()) < f.width)
            b.append(f.width - f.header.size(), ' ');
    };
    if (show_time_) column(time_prefix, false);
    if (show_uid_) column(uid_prefix, false);
    for (size_t i = 0; i < layout_.fields.size(); i++)
        if (text_shows(layout_.fields[i])) column(layout_.fields[i], i == last_text_column_);
    b += '\n';
    out_.end_record();
}

Record RecordWriter::begin(const Task& task) {
    if (!comm_matches(task.comm, options_.name)) return {};
    return Record(this, &task);
}

Record RecordWriter::begin() {
    return Record(this, nullptr);
}

Record RecordWriter::begin_in(std::string& target) {
    return Record(this, nullptr, &target);
}

Record::Record(RecordWriter* writer, const Task* task, std::string* target)
    : writer_(writer), b_(target ? target : &writer->out_.buffer()), task_(task ? *task : Task{}),
      has_task_(task != nullptr), nested_(target != nullptr) {
    std::string& b = *b_;
    if (writer->json_) {
        b += '{';
        if (!task) return;
        unsigned parts = writer->layout_.task;
        if (parts & task_time) {
            append_json_key(b, first_, "time");
            b += '"';
            writer->clock_.append_iso(b, task->ts_ns);
            b += '"';
        }
        if (parts & task_pid) append_json_key(b, first_, "pid"), append_unsigned(b, task->pid);
        if (parts & task_tid) append_json_key(b, first_, "tid"), append_unsigned(b, task->tid);
        if (parts & task_uid) append_json_key(b, first_, "uid"), append_unsigned(b, task->uid);
        if (parts & task_comm)
            append_json_key(b, first_, "comm"), append_json_string(b, task->comm);
        return;
    }
    if (writer->show_time_) {
        if (task)
            writer->clock_.append_hms(b, task->ts_ns);
        else
            append_wall_time(b);
        first_ = false;
    }
    if (writer->show_uid_) {
        separate();
        append_padded(b, std::to_string(task ? task->uid : 0), uid_prefix.width);
    }
}

void Record::pad(const Field& f, size_t start) {
    size_t written = b_->size() - start;
    if (static_cast<int>(written) >= f.width) return;
    size_t fill = static_cast<size_t>(f.width) - written;
    if (f.align == Align::right)
        b_->insert(start, fill, ' ');
    else if (&f - writer_->layout_.fields.data() !=
             static_cast<ptrdiff_t>(writer_->last_text_column_))
        b_->append(fill, ' ');
}

void Record::json_key(std::string_view key) {
    append_json_key(*b_, first_, key);
}

void Record::task_column(const Field& f) {
    separate();
    size_t start = b_->size();
    switch (f.from) {
    case From::task_pid:
        append_unsigned(*b_, task_.pid);
        break;
    case From::task_tid:
        append_unsigned(*b_, task_.tid);
        break;
    case From::task_uid:
        append_unsigned(*b_, task_.uid);
        break;
    case From::task_comm:
        append_text_escaped(*b_, task_.comm);
        break;
    case From::task_time:
        writer_->clock_.append_hms(*b_, task_.ts_ns);
        break;
    case From::tool:
        break;
    }
    pad(f, start);
}

// A right-aligned number without a suffix takes its padding as it is
// appended (pad() would move it along): the common case, on every event.
namespace {
bool pads_as_appended(const Field& f, bool json) {
    return !json && f.align == Align::right && f.suffix.empty();
}
} // namespace

Record& Record::signed_number(int64_t v) {
    if (const Field* f = next()) {
        if (pads_as_appended(*f, writer_->json_)) {
            append_number(*b_, v, f->width);
            return *this;
        }
        size_t start = b_->size();
        append_number(*b_, v);
        if (!writer_->json_) b_->append(f->suffix), pad(*f, start);
    }
    return *this;
}

Record& Record::unsigned_number(uint64_t v) {
    if (const Field* f = next()) {
        size_t start = b_->size();
        if (f->octal && !writer_->json_) {
            char digits[32];
            snprintf(digits, sizeof digits, "%0*llo", f->width, static_cast<unsigned long long>(v));
            *b_ += digits;
            return *this;
        }
        if (pads_as_appended(*f, writer_->json_)) {
            append_unsigned(*b_, v, f->width);
            return *this;
        }
        append_unsigned(*b_, v);
        if (!writer_->json_) b_->append(f->suffix), pad(*f, start);
    }
    return *this;
}

void Record::append_real(const Field& f, double v) {
    int decimals = !writer_->json_ && f.text_decimals >= 0 ? f.text_decimals : f.decimals;
    char buf[64];
    if (std::isnan(v) || std::isinf(v)) {
        *b_ += writer_->json_ ? "null" : "-"; // JSON has no NaN or infinity
        return;
    }
    // Fixed notation reads best; past 1e15 it would print noise digits (or
    // overflow the buffer), so large magnitudes use the shortest exact form.
    if (v > 1e15 || v < -1e15)
        snprintf(buf, sizeof buf, "%.17g", v);
    else
        snprintf(buf, sizeof buf, "%.*f", decimals, v);
    *b_ += buf;
}

Record& Record::real(double v) {
    if (const Field* f = next()) {
        size_t start = b_->size();
        append_real(*f, v);
        if (!writer_->json_) b_->append(f->suffix), pad(*f, start);
    }
    return *this;
}

Record& Record::text(std::string_view v) {
    if (const Field* f = next()) {
        if (writer_->json_) {
            append_json_string(*b_, v);
        } else {
            size_t start = b_->size();
            append_text_escaped(*b_, v);
            b_->append(f->suffix);
            pad(*f, start);
        }
    }
    return *this;
}

Record& Record::strings(const std::vector<std::string_view>& v, std::string_view text_tail) {
    if (const Field* f = next()) {
        size_t start = b_->size();
        if (writer_->json_) *b_ += '[';
        for (size_t i = 0; i < v.size(); i++) {
            if (i) *b_ += writer_->json_ ? ',' : ' ';
            if (writer_->json_)
                append_json_string(*b_, v[i]);
            else
                append_text_escaped(*b_, v[i]);
        }
        if (writer_->json_) {
            *b_ += ']';
        } else {
            if (!text_tail.empty()) {
                if (!v.empty()) *b_ += ' ';
                b_->append(text_tail);
            }
            pad(*f, start);
        }
    }
    return *this;
}

Record& Record::boolean(bool v) {
    if (const Field* f = next()) {
        size_t start = b_->size();
        *b_ += v ? "true" : "false";
        if (!writer_->json_) pad(*f, start);
    }
    return *this;
}

Record& Record::null() {
    if (const Field* f = next()) {
        size_t start = b_->size();
        *b_ += writer_->json_ ? "null" : "-";
        if (!writer_->json_) pad(*f, start);
    }
    return *this;
}

Record& Record::absent() {
    if (writer_ && writer_->json_) {
        task_columns();
        if (writer_->steps_[index_] != RecordWriter::end_of_fields) index_++;
        return *this;
    }
    return null();
}

Record& Record::formatted(std::string_view v) {
    if (const Field* f = next()) {
        size_t start = b_->size();
        b_->append(v);
        if (!writer_->json_) pad(*f, start);
    }
    return *this;
}

void Record::end() {
    if (!writer_) return;
    task_columns();
    assert(writer_->steps_[index_] == RecordWriter::end_of_fields &&
           "fewer values than the layout has fields");
    if (nested_) {
        *b_ += writer_->json_ ? "}" : "\n";
        return;
    }
    *b_ += writer_->json_ ? "}\n" : "\n";
    writer_->out_.end_record();
}

} // namespace corescope
