// Catch2's main() for the unit and integration tests, with skipped cases
// (skip.h) counted apart: a closing line "skipped: N test cases" follows
// Catch2's own summary (which counts them as passed; scripts/
// summarize_tests.py takes them out), with the reason for each.
#define CATCH_CONFIG_RUNNER
#include "skip.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace {

struct Tally {
    std::string current;
    std::map<std::string, std::string> skipped; // case -> reason
    int ran = 0;
};

Tally& tally() {
    static Tally t;
    return t;
}

struct SkipListener : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;
    void testCaseStarting(const Catch::TestCaseInfo& info) override { tally().current = info.name; }
    void testCaseEnded(const Catch::TestCaseStats& stats) override {
        tally().ran++;
        // A case that failed is a failure, whatever it skipped.
        if (stats.totals.assertions.failed > 0) tally().skipped.erase(stats.testInfo.name);
    }
};

} // namespace

CATCH_REGISTER_LISTENER(SkipListener)

namespace testskip {
void record(const std::string& reason) {
    tally().skipped.emplace(tally().current, reason);
    WARN("SKIPPED: " << reason);
}
} // namespace testskip

int main(int argc, char** argv) {
    Catch::Session session;
    int status = session.applyCommandLine(argc, argv);
    if (status != 0) return status;
    status = session.run();
    const Tally& t = tally();
    if (!t.skipped.empty()) {
        std::printf("skipped: %zu test cases\n", t.skipped.size());
        for (const auto& [name, reason] : t.skipped)
            std::printf("  %s: %s\n", name.c_str(), reason.c_str());
    }
    if (status != 0) return status;
    const char* no_skip = std::getenv("CORESCOPE_NO_SKIP");
    if (!t.skipped.empty() && no_skip && std::string(no_skip) == "1") {
        std::printf("CORESCOPE_NO_SKIP=1: no case may be skipped here (BPF is permitted and the "
                    "setup has run), so a skip is a broken test\n");
        return 1;
    }
    if (t.ran > 0 && t.skipped.size() == static_cast<size_t>(t.ran)) return 77; // all skipped
    return 0;
}
