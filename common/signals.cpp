#include "signals.h"

#include "cli.h"
#include "errors.h"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstring>

namespace corescope {

namespace {

constexpr int max_signal = 64; // the kernel's _NSIG

} // namespace

std::string signal_name(int sig) {
    if (sig >= 1 && sig < 32) {
        const char* abbrev = sigabbrev_np(sig);
        if (abbrev) return std::string("SIG") + abbrev;
    }
    int rtmin = SIGRTMIN, rtmax = SIGRTMAX;
    if (sig >= rtmin && sig <= rtmax && sig <= max_signal) {
        // kill -l's split: the lower half counts up from SIGRTMIN, the
        // upper half down from SIGRTMAX.
        int up = sig - rtmin, down = rtmax - sig;
        if (up == 0) return "SIGRTMIN";
        if (down == 0) return "SIGRTMAX";
        if (up <= (rtmax - rtmin) / 2) return "SIGRTMIN+" + std::to_string(up);
        return "SIGRTMAX-" + std::to_string(down);
    }
    return std::to_string(sig);
}

int parse_signal(const char* flag, std::string_view text) {
    if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0])))
        return static_cast<int>(parse_unsigned(flag, text, 0, max_signal));
    std::string wanted(text);
    std::transform(wanted.begin(), wanted.end(), wanted.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (wanted.rfind("SIG", 0) != 0) wanted = "SIG" + wanted;
    for (int sig = 1; sig <= max_signal; sig++)
        if (signal_name(sig) == wanted) return sig;
    throw UsageError("invalid " + std::string(flag) + " '" + std::string(text) +
                     "': not a signal name (like SIGKILL or KILL) or number (0 to 64)");
}

bool signal_terminates_by_default(int sig) {
    switch (sig) {
    case SIGCHLD:
    case SIGCONT:
    case SIGSTOP:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
    case SIGURG:
    case SIGWINCH:
        return false;
    default:
        return sig >= 1 && sig <= max_signal;
    }
}

} // namespace corescope
