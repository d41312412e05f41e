// A tool's decoder on its own, for tests/fuzz: bytes presented as what the
// kernel hands over (one event from the event stream, or one map value),
// printed as the options ask (text or JSON, -T, -U, ...). Fuzzing feeds it
// arbitrary bytes; whatever they are, text must stay free of control bytes
// and every JSON line must parse.
//
// Each tool defines corescope::tools::decode_NAME with this signature in its
// NAME.cpp and lists NAME in decoder_tools (meson.build); the fuzzer picks
// it up from there.
#pragma once

#include "cli.h"
#include "output.h"

#include <cstddef>
#include <cstdint>

namespace corescope {

// variant: bits the tool maps to its own display switches (bit 0 first, for
// example opensnoop's -e); a tool ignores the bits it has no use for.
using Decoder = void (*)(const CommonOptions& options, uint32_t variant, Output& out,
                         const void* data, size_t size);

} // namespace corescope
