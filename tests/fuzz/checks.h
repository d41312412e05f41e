// What the fuzz targets check of every printed byte.
#pragma once

#include <string_view>

namespace fuzz {

// The properties every printed byte must have, whatever the input: valid
// UTF-8, and in text no control byte but the newline (no C0, DEL or C1
// controls, which could move the cursor or change the terminal), and the
// tab where it is a tool's layout (layout_tabs). Each returns what is
// wrong, or nullptr.
const char* check_utf8(std::string_view s);
const char* check_terminal_safe(std::string_view s, bool layout_tabs = false);
// Every line is one JSON object.
const char* check_json_lines(std::string_view s);

// Prints what is wrong with the output and aborts, so libFuzzer saves the input.
[[noreturn]] void fail(const char* what, std::string_view output);

} // namespace fuzz
