// Signal names as kill -l prints them (SIGKILL, SIGRTMIN+3), and a signal
// given on the command line by name or number.
#pragma once

#include <string>
#include <string_view>

namespace corescope {

// The name of a signal: SIGKILL; SIGRTMIN, SIGRTMIN+1 ... SIGRTMAX-1,
// SIGRTMAX for the real-time ones (the C library's SIGRTMIN, as kill -l);
// the number where there is no name (0, the two signals glibc keeps, out of
// range).
std::string signal_name(int sig);
// A signal given on the command line: a number from 0 to 64 (0 is kill's
// "does it exist" probe), or a name with or without SIG, in any case
// (KILL, SIGKILL, sigkill, RTMIN+3). UsageError naming flag otherwise.
int parse_signal(const char* flag, std::string_view text);
// Whether the signal's default action ends the process (SIGKILL, SIGSEGV,
// SIGTERM, ...; not SIGCHLD, SIGCONT, SIGSTOP, SIGURG, SIGWINCH).
bool signal_terminates_by_default(int sig);

} // namespace corescope
