// Which architecture's system call numbers and open(2) flag bits the
// decoders read events with: the one built for, except in the golden-output
// tests (tests/golden/README.md), which decode recordings of x86_64 and of
// arm64 on either.
#pragma once

namespace corescope {

enum class DecodeArch { native, x86_64, aarch64 };

inline DecodeArch decode_arch = DecodeArch::native;

// Tests only: decode as ARCH does until called again with native.
inline void use_decode_arch_for_tests(DecodeArch arch) {
    decode_arch = arch;
}

} // namespace corescope
