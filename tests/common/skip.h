// Skipped test cases. Catch2 2.x has no skip, and a case that returns early
// passes; SKIP_CASE(reason) records the case as skipped (with the reason)
// and returns. catch_main.cpp reports skipped cases apart from the passed
// ones at the end, exits 77 (meson's SKIP) when every case that ran was
// skipped, and fails when any was skipped under CORESCOPE_NO_SKIP=1 (set by
// scripts/test.sh where the setup has run and BPF is permitted: there a
// skip means a broken test).
#pragma once

#include <sstream>
#include <string>

namespace testskip {
// Marks the running test case skipped, for reason.
void record(const std::string& reason);
} // namespace testskip

#define SKIP_CASE(reason)                                                                          \
    do {                                                                                           \
        std::ostringstream skip_reason_;                                                           \
        skip_reason_ << reason;                                                                    \
        ::testskip::record(skip_reason_.str());                                                    \
        return;                                                                                    \
    } while (0)
