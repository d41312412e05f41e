/* The file-system calls' families by system call number, for the programs
 * on the raw sys_enter/sys_exit tracepoints that vfsstat and vfscount
 * attach: one load from a table in rodata per call, which the loader fills
 * before load (common/file_calls.h), so calls that are not file calls stop
 * there. */
#pragma once

#include "vmlinux.h"

#include "file_call_family.h"

const volatile __u8 file_call_family[FILE_CALL_MAX_NR] = {};

/* The family of system call nr, or FILE_CALL_NONE. */
static __always_inline enum file_call_family file_call_family_of(long nr)
{
	if (nr < 0 || nr >= FILE_CALL_MAX_NR)
		return FILE_CALL_NONE;
	return (enum file_call_family)file_call_family[nr];
}
