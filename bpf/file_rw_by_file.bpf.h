/* Reads and writes counted per process and file (filetop, triage), in a hash
 * map user space reads: file_rw_count_by_file() from the tool's
 * file_rw_done() (bpf/file_rw.bpf.h). The bytes are the calls' results, so
 * the counts are exact; the file's name is read once per entry. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "file_rw.bpf.h"
#include "maps.bpf.h"
#include "file_rw_by_file.h"

/* Allocated as files appear (preallocation would cost the whole table). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FILE_RW_FILES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct file_rw_key);
	__type(value, struct file_rw_counts);
} files SEC(".maps");

/* Calls the table had no room for. */
__u64 calls_dropped = 0;

static __always_inline void file_rw_count_by_file(struct file *file, bool write, long bytes)
{
	static const struct file_rw_counts zero = {}; /* too big for the stack */
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	struct file_rw_key key = {
		.pid = bpf_get_current_pid_tgid() >> 32,
		.dev = BPF_CORE_READ(inode, i_sb, s_dev),
		.ino = BPF_CORE_READ(inode, i_ino),
	};
	struct file_rw_counts *value = map_lookup_or_insert(&files, &key, &zero);

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
