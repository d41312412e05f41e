// Stacks made up for the unit tests of common/stacks.h and what reads
// stacks (common/kernel_locks.h): a named frame, a present stack.
#pragma once

#include "stacks.h"

#include <string>
#include <utility>
#include <vector>

namespace made_stacks {

inline corescope::Frame named(uint64_t address, std::string name, std::string module) {
    corescope::Frame frame;
    frame.address = address;
    frame.symbol.name = std::move(name);
    frame.symbol.module = std::move(module);
    return frame;
}

inline corescope::ResolvedStack present(std::vector<corescope::Frame> frames) {
    corescope::ResolvedStack stack;
    stack.state = corescope::ResolvedStack::State::present;
    stack.frames = std::move(frames);
    return stack;
}

} // namespace made_stacks
