// SPDX-License-Identifier: GPL-2.0
/* filetop: reads and writes per process and file, and their bytes, counted
 * in a hash map user space empties every interval; no event per call. The
 * calls are the read and write families of system calls, the file the one
 * behind the descriptor (bpf/file_rw.bpf.h); the bytes are the calls'
 * results, so the counts are exact. The file's name is read once per
 * process and file and interval. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "file_rw.bpf.h"
#include "maps.bpf.h"
#include "filetop/filetop.h"

char LICENSE[] SEC("license") = "GPL";

/* Every file type (-a); otherwise regular files only. */
const volatile bool all_files = false;

/* Allocated as files appear (preallocation would cost the whole table). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FILETOP_FILES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct filetop_key);
	__type(value, struct filetop_value);
} files SEC(".maps");

/* Calls the table had no room for. */
__u64 calls_dropped = 0;

static bool file_rw_wanted(struct file *file, __u64 *cookie)
{
	return all_files || (file_rw_mode(file) & FILE_RW_MODE_TYPE) == FILE_RW_MODE_REGULAR;
}

static void file_rw_done(struct file *file, __u64 cookie, bool write, long bytes)
{
	static const struct filetop_value zero = {}; /* too big for the stack */
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	struct filetop_key key = {
		.pid = bpf_get_current_pid_tgid() >> 32,
		.dev = BPF_CORE_READ(inode, i_sb, s_dev),
		.ino = BPF_CORE_READ(inode, i_ino),
	};
	struct filetop_value *value = map_lookup_or_insert(&files, &key, &zero);

	if (!value) {
		__sync_fetch_and_add(&calls_dropped, 1);
		return;
	}
	if (!value->type) { /* new */
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();
		__u16 mode = BPF_CORE_READ(inode, i_mode);
		__u32 type = mode & FILE_RW_MODE_TYPE;

		BPF_CORE_READ_STR_INTO(&value->comm, task, group_leader, comm);
		bpf_probe_read_kernel_str(value->name, sizeof(value->name),
					  BPF_CORE_READ(file, f_path.dentry, d_name.name));
		value->mode = mode;
		value->type = type == FILE_RW_MODE_REGULAR  ? 'R'
			      : type == FILE_RW_MODE_SOCKET ? 'S'
							    : 'O';
	}
	if (write) {
		__sync_fetch_and_add(&value->writes, 1);
		__sync_fetch_and_add(&value->write_bytes, bytes);
	} else {
		__sync_fetch_and_add(&value->reads, 1);
		__sync_fetch_and_add(&value->read_bytes, bytes);
	}
}

FILE_RW_PROGRAMS()
