// The file-system calls vfsstat and vfscount count, by family
// (bpf/file_call_family.h): the table that says which system call is in which
// family, by name, and the families' names.
#pragma once

#include "file_call_family.h"

#include <cstdint>
#include <string_view>

namespace corescope {

// "read", "write", ... for FILE_CALL_READ, ...; empty for FILE_CALL_NONE.
std::string_view file_call_family_name(uint32_t family);

// The family of the system call with this name, or FILE_CALL_NONE.
file_call_family file_call_family_of(std::string_view syscall);

// Fills table[nr] with the family of system call nr on this architecture
// (the BPF side's file_call_family, bpf/file_calls.bpf.h).
void fill_file_call_families(uint8_t (&table)[FILE_CALL_MAX_NR]);

} // namespace corescope
