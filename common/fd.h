// FileDescriptor: the one owner of a file descriptor. It closes what it
// holds when it goes out of scope or is given another, so no path (an
// early return, an exception) leaks one, and nothing closes one by hand.
#pragma once

#include <unistd.h>
#include <utility>

namespace corescope {

class FileDescriptor {
  public:
    FileDescriptor() = default;
    // Takes ownership of fd; a negative fd (a failed open) holds nothing.
    explicit FileDescriptor(int fd) : fd_(fd < 0 ? -1 : fd) {}
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
    FileDescriptor& operator=(FileDescriptor&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() { reset(); }

    // -1 when it holds nothing.
    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    // Gives the descriptor up without closing it: the caller (or whatever
    // it hands it to) owns it now.
    int release() { return std::exchange(fd_, -1); }
    // Closes what it holds, then holds fd (nothing by default).
    void reset(int fd = -1) {
        int old = std::exchange(fd_, fd < 0 ? -1 : fd);
        if (old >= 0 && old != fd_) ::close(old);
    }

  private:
    int fd_ = -1;
};

} // namespace corescope
