// The columns that open an event tool's text line, the same in every tool
// that has them: TIME (-T, local HH:MM:SS of the event), then UID (-U).
#pragma once

#include "cli.h"
#include "clock.h"
#include "output.h"

#include <cstdint>
#include <string>

namespace corescope {

inline void append_time_uid_headers(std::string& out, const CommonOptions& options) {
    if (options.time) out += "TIME     ";
    if (options.print_uid) out += "UID     ";
}

inline void append_time_uid_columns(std::string& out, const CommonOptions& options,
                                    EventClock& clock, uint64_t ts_ns, uint32_t uid) {
    if (options.time) {
        clock.append_hms(out, ts_ns);
        out += ' ';
    }
    if (options.print_uid) {
        append_padded(out, std::to_string(uid), 7);
        out += ' ';
    }
}

} // namespace corescope
