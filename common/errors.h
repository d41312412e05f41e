// Errors carry their context up to the one place that reports them: the
// tool's entry wrapper (run_tool), which prints one line and picks the exit
// code. UsageError means the user asked for something invalid (exit 2);
// RuntimeError means the system could not do what was asked (exit 1).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace corescope {

inline constexpr int exit_ok = 0;
inline constexpr int exit_runtime_error = 1;
inline constexpr int exit_usage_error = 2;

class Error : public std::runtime_error {
  public:
    Error(int exit_code, const std::string& message)
        : std::runtime_error(message), exit_code_(exit_code) {}
    int exit_code() const { return exit_code_; }

  private:
    int exit_code_;
};

class UsageError : public Error {
  public:
    explicit UsageError(const std::string& message) : Error(exit_usage_error, message) {}
};

class RuntimeError : public Error {
  public:
    explicit RuntimeError(const std::string& message) : Error(exit_runtime_error, message) {}
};

// "what: strerror(err)" for a negative or positive errno value.
std::string errno_message(const std::string& what, int err);

// ENOENT for 2 (negative values too); the number where the C library has
// no name for it.
std::string errno_name(int err);
// An errno given on the command line, by name (ENOENT) or number (1 to
// 4095); UsageError naming flag otherwise.
int parse_errno(const char* flag, std::string_view text);
// The errno a system call's return value carries: -4095..-1 (MAX_ERRNO) is
// -errno, anything else (a result, or a value no errno can be) is 0.
inline int errno_of_return(int64_t ret) {
    return ret < 0 && ret >= -4095 ? static_cast<int>(-ret) : 0;
}

} // namespace corescope
