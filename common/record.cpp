#include "record.h"

#include "filters.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>

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

void append_json_key(StringAppender& out, bool& first, std::string_view key) {
    char* start = out.room(key.size() + 4);
    char* at = start;
    if (!first) *at++ = ',';
    first = false;
    *at++ = '"';
    std::memcpy(at, key.data(), key.size());
    at += key.size();
    *at++ = '"';
    *at++ = ':';
    out.advance(static_cast<size_t>(at - start));
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
    : writer_(writer), task_(task ? *task : Task{}), has_task_(task != nullptr),
      nested_(target != nullptr) {
    if (target) {
        nested_target_.open_on(*target, 256);
        out_ = &nested_target_;
    } else {
        out_ = &writer->out_.appender();
    }
    if (writer->json_) {
        out_->put('{');
        if (!task) return;
        unsigned parts = writer->layout_.task;
        if (parts & task_time) {
            append_json_key(*out_, first_, "time");
            out_->put('"');
            writer->clock_.append_iso(*out_, task->ts_ns);
            out_->put('"');
        }
        if (!task->known) {
            for (auto [part, key] : {std::pair{task_pid, "pid"},
                                     {task_tid, "tid"},
                                     {task_uid, "uid"},
                                     {task_comm, "comm"}})
                if (parts & part) append_json_key(*out_, first_, key), out_->put("null");
            return;
        }
        if (parts & task_pid)
            append_json_key(*out_, first_, "pid"), append_unsigned(*out_, task->pid);
        if (parts & task_tid)
            append_json_key(*out_, first_, "tid"), append_unsigned(*out_, task->tid);
        if (parts & task_uid)
            append_json_key(*out_, first_, "uid"), append_unsigned(*out_, task->uid);
        if (parts & task_comm)
            append_json_key(*out_, first_, "comm"), append_json_string(*out_, task->comm);
        return;
    }
    if (writer->show_time_) {
        if (task)
            writer->clock_.append_hms(*out_, task->ts_ns);
        else
            append_wall_time(*out_);
        first_ = false;
    }
    if (writer->show_uid_) {
        separate();
        size_t start = out_->size();
        if (task && !task->known)
            out_->put('-');
        else
            append_unsigned(*out_, task ? task->uid : 0);
        size_t written = out_->size() - start;
        if (written < static_cast<size_t>(uid_prefix.width)) out_->fill(uid_prefix.width - written);
    }
}

void Record::pad(const Field& f, size_t start) {
    size_t written = out_->size() - start;
    if (static_cast<int>(written) >= f.width) return;
    size_t fill = static_cast<size_t>(f.width) - written;
    if (f.align == Align::right)
        out_->pad_before(start, fill);
    else if (&f - writer_->layout_.fields.data() !=
             static_cast<ptrdiff_t>(writer_->last_text_column_))
        out_->fill(fill);
}

void Record::json_key(std::string_view key) {
    append_json_key(*out_, first_, key);
}

void Record::task_column(const Field& f) {
    separate();
    size_t start = out_->size();
    if (!task_.known && f.from != From::task_time && f.from != From::tool) {
        out_->put('-');
        pad(f, start);
        return;
    }
    switch (f.from) {
    case From::task_pid:
        append_unsigned(*out_, task_.pid);
        break;
    case From::task_tid:
        append_unsigned(*out_, task_.tid);
        break;
    case From::task_uid:
        append_unsigned(*out_, task_.uid);
        break;
    case From::task_comm:
        append_text_escaped(*out_, task_.comm);
        break;
    case From::task_time:
        writer_->clock_.append_hms(*out_, task_.ts_ns);
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
            append_number(*out_, v, f->width);
            return *this;
        }
        size_t start = out_->size();
        append_number(*out_, v);
        if (!writer_->json_) out_->put(f->suffix), pad(*f, start);
    }
    return *this;
}

Record& Record::unsigned_number(uint64_t v) {
    if (const Field* f = next()) {
        size_t start = out_->size();
        if (f->octal && !writer_->json_) {
            char digits[32];
            int n = snprintf(digits, sizeof digits, "%0*llo", f->width,
                             static_cast<unsigned long long>(v));
            out_->put(std::string_view(digits, static_cast<size_t>(n)));
            return *this;
        }
        if (pads_as_appended(*f, writer_->json_)) {
            append_unsigned(*out_, v, f->width);
            return *this;
        }
        append_unsigned(*out_, v);
        if (!writer_->json_) out_->put(f->suffix), pad(*f, start);
    }
    return *this;
}

void Record::append_real(const Field& f, double v) {
    int decimals = !writer_->json_ && f.text_decimals >= 0 ? f.text_decimals : f.decimals;
    if (std::isnan(v) || std::isinf(v)) {
        out_->put(writer_->json_ ? "null" : "-"); // JSON has no NaN or infinity
        return;
    }
    // Fixed notation reads best; past 1e15 it would print noise digits (or
    // overflow the buffer), so large magnitudes use the shortest exact form.
    char buf[64];
    int n;
    if (v > 1e15 || v < -1e15)
        n = snprintf(buf, sizeof buf, "%.17g", v);
    else
        n = snprintf(buf, sizeof buf, "%.*f", decimals, v);
    out_->put(std::string_view(buf, static_cast<size_t>(n)));
}

Record& Record::real(double v) {
    if (const Field* f = next()) {
        size_t start = out_->size();
        append_real(*f, v);
        if (!writer_->json_) out_->put(f->suffix), pad(*f, start);
    }
    return *this;
}

Record& Record::text(std::string_view v) {
    if (const Field* f = next()) {
        if (writer_->json_) {
            append_json_string(*out_, v);
        } else {
            size_t start = out_->size();
            append_text_escaped(*out_, v);
            out_->put(f->suffix);
            pad(*f, start);
        }
    }
    return *this;
}

Record& Record::strings(const std::vector<std::string_view>& v, std::string_view text_tail) {
    if (const Field* f = next()) {
        size_t start = out_->size();
        if (writer_->json_) out_->put('[');
        for (size_t i = 0; i < v.size(); i++) {
            if (i) out_->put(writer_->json_ ? ',' : ' ');
            if (writer_->json_)
                append_json_string(*out_, v[i]);
            else
                append_text_escaped(*out_, v[i]);
        }
        if (writer_->json_) {
            out_->put(']');
        } else {
            if (!text_tail.empty()) {
                if (!v.empty()) out_->put(' ');
                out_->put(text_tail);
            }
            pad(*f, start);
        }
    }
    return *this;
}

Record& Record::boolean(bool v) {
    if (const Field* f = next()) {
        size_t start = out_->size();
        out_->put(v ? "true" : "false");
        if (!writer_->json_) pad(*f, start);
    }
    return *this;
}

Record& Record::null() {
    if (const Field* f = next()) {
        size_t start = out_->size();
        out_->put(writer_->json_ ? "null" : "-");
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
        size_t start = out_->size();
        out_->put(v);
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
        out_->put(writer_->json_ ? "}" : "\n");
        out_->finish();
        return;
    }
    out_->put(writer_->json_ ? "}\n" : "\n");
    writer_->out_.end_record();
}

} // namespace corescope
