// What the fuzz targets exercise, generated from tool_names and
// decoder_tools in meson.build (registry.cpp.in): each tool's entry point
// (for its command line) and each tool's decoder.
#pragma once

#include "decoder.h"

#include <string_view>
#include <vector>

namespace fuzz {

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

// The properties every printed byte must have, whatever the input: valid
// UTF-8, and in text no control byte but the newline (no C0, DEL or C1
// controls, which could move the cursor or change the terminal). Each
// returns what is wrong, or nullptr.
const char* check_utf8(std::string_view s);
const char* check_terminal_safe(std::string_view s);
// Every line is one JSON object.
const char* check_json_lines(std::string_view s);

// Prints what is wrong with the output and aborts, so libFuzzer saves the input.
[[noreturn]] void fail(const char* what, std::string_view output);

} // namespace fuzz
