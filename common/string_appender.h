// Appends to a std::string through a pointer, for the paths that run once
// per event. A record is many short pieces (a space, a number, padding, a
// name), and std::string's out-of-line append for each piece cost more than
// the formatting itself; here each piece is an inline bounds check and a
// copy. The string is grown ahead by a window, written in place, and cut to
// what was written by finish() or the destructor. While an appender is
// open its string's size() counts the unwritten window: ask the appender.
// Growing the window zeroes it (std::string has no other way before
// C++23), so an appender that lives long (Output's) keeps its window
// across records and flushes, and zeroes only when it outgrows it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace corescope {

class StringAppender {
  public:
    StringAppender() = default; // appends nowhere: for a record that is skipped
    // expect: what the caller is about to write, roughly (grown if short).
    explicit StringAppender(std::string& s, size_t expect = 256) { open_on(s, expect); }
    StringAppender(StringAppender&& other) noexcept
        : s_(std::exchange(other.s_, nullptr)), at_(other.at_), end_(other.end_) {}
    StringAppender& operator=(StringAppender&&) = delete;
    ~StringAppender() { finish(); }

    void open_on(std::string& s, size_t expect) {
        finish();
        s_ = &s;
        size_t used = s.size();
        s.resize(used + expect);
        at_ = s.data() + used;
        end_ = s.data() + s.size();
    }
    bool is_open() const { return s_ != nullptr; }
    // Forgets what was written (after it was written out), keeping the window.
    void rewind() { at_ = s_->data(); }
    const char* data() const { return s_->data(); }
    // Cuts the string to what was written; the appender then appends nowhere.
    void finish() {
        if (s_) s_->resize(size());
        s_ = nullptr;
    }
    // The string's length so far, as its size() would be without the window.
    size_t size() const { return static_cast<size_t>(at_ - s_->data()); }
    // Makes room for n more bytes.
    [[gnu::always_inline]] void reserve(size_t n) {
        if (static_cast<size_t>(end_ - at_) < n) grow(n);
    }
    [[gnu::always_inline]] void put(char c) {
        reserve(1);
        *at_++ = c;
    }
    [[gnu::always_inline]] void put(std::string_view v) {
        if (v.empty()) return; // an empty view's data() may be null: no memcpy from it
        reserve(v.size());
        std::memcpy(at_, v.data(), v.size());
        at_ += v.size();
    }
    void fill(size_t n, char c = ' ') {
        reserve(n);
        std::memset(at_, c, n);
        at_ += n;
    }
    // Moves what was written since offset start along by n and puts n
    // spaces before it (right alignment of a value already written).
    void pad_before(size_t start, size_t n) {
        reserve(n);
        char* from = s_->data() + start;
        std::memmove(from + n, from, static_cast<size_t>(at_ - from));
        std::memset(from, ' ', n);
        at_ += n;
    }
    // For formatting in place: room for n bytes, then advance() by the
    // number written.
    [[gnu::always_inline]] char* room(size_t n) {
        reserve(n);
        return at_;
    }
    void advance(size_t n) { at_ += n; }

  private:
    void grow(size_t n) {
        size_t used = size();
        s_->resize(used + n + std::max<size_t>(n, 1024)); // zeroes only past the old window
        at_ = s_->data() + used;
        end_ = s_->data() + s_->size();
    }

    std::string* s_ = nullptr;
    char* at_ = nullptr;
    char* end_ = nullptr;
};

} // namespace corescope
