// UTF-8 validity, for the escapers (output.cpp, exposition.cpp); the tests
// check UTF-8 with their own (tests/common/utf8.h).
#pragma once

#include <cstddef>
#include <string_view>

namespace corescope {

// Length of the valid UTF-8 sequence at s[i] (i < s.size()), or 0 if the
// bytes there are not valid UTF-8 (overlong forms and surrogates are invalid
// too). ASCII is not a sequence here: 0 for bytes below 0x80.
size_t utf8_sequence_length(std::string_view s, size_t i);

} // namespace corescope
