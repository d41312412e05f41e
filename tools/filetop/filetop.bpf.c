// SPDX-License-Identifier: GPL-2.0
/* filetop: reads and writes per process and file, and their bytes, counted
 * in a hash map user space empties every interval; no event per call. The
 * calls are the read and write families of system calls, the file the one
 * behind the descriptor (bpf/file_rw.bpf.h), counted by
 * bpf/file_rw_by_file.bpf.h. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "file_rw.bpf.h"
#include "file_rw_by_file.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Every file type (-a); otherwise regular files only. */
const volatile bool all_files = false;

static bool file_rw_wanted(struct file *file, __u64 *cookie)
{
	return all_files || (file_rw_mode(file) & FILE_RW_MODE_TYPE) == FILE_RW_MODE_REGULAR;
}

static void file_rw_done(struct file *file, __u64 cookie, bool write, long bytes)
{
	file_rw_count_by_file(file, write, bytes);
}

FILE_RW_PROGRAMS()
