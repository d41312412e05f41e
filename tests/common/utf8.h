// UTF-8 as the tests check it, written apart from common/output.cpp so that
// a mistake there is not repeated here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace testutf8 {

// The length of the valid UTF-8 sequence at s[i] (1 to 4), or 0 when the
// bytes there are not one: a bad lead or continuation byte, a sequence cut
// by the end, an overlong form, a surrogate or a code point past U+10FFFF.
inline size_t sequence_length(std::string_view s, size_t i) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    size_t len = c < 0x80                 ? 1
                 : c >= 0xc2 && c <= 0xdf ? 2
                 : c >= 0xe0 && c <= 0xef ? 3
                 : c >= 0xf0 && c <= 0xf4 ? 4
                                          : 0;
    if (len == 0 || i + len > s.size()) return 0;
    uint32_t cp = len == 1 ? c : c & (0xff >> (len + 1));
    for (size_t k = 1; k < len; k++) {
        if ((byte(i + k) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (byte(i + k) & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

} // namespace testutf8
