// Every tool's entry point (for its command line) and every tool's decoder,
// generated from tool_names and decoder_tools in meson.build
// (tool_entries.cpp.in): what the fuzz targets and the golden-output tests
// exercise.
#pragma once

#include "decoder.h"

#include <string_view>
#include <vector>

namespace tool_entries {

struct ToolMain {
    std::string_view name;
    int (*main)(int argc, char** argv);
};

struct ToolDecoder {
    std::string_view name;
    corescope::Decoder decode;
};

const std::vector<ToolMain>& tool_mains();
const std::vector<ToolDecoder>& tool_decoders();

} // namespace tool_entries
