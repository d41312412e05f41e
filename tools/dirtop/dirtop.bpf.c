// SPDX-License-Identifier: GPL-2.0
/* dirtop: reads and writes of regular files under each watched directory,
 * and their bytes, counted in a small hash map user space empties every
 * interval; no event per call. The calls are the read and write families
 * of system calls with the file behind the descriptor (bpf/file_rw.bpf.h).
 * At a call's entry the file's ancestors are walked up (crossing mount
 * points, at most DIRTOP_DEPTH steps) until one is a watched directory,
 * matched by inode number and device; the nearest one takes the call. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "file_rw.bpf.h"
#include "maps.bpf.h"
#include "dirtop/dirtop.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 dir_count = 0;
const volatile struct dirtop_dir dirs[DIRTOP_MAX_DIRS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DIRTOP_MAX_DIRS);
	__type(key, struct dirtop_key);
	__type(value, struct dirtop_value);
} by_dir SEC(".maps");

struct dir_walk {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	__s32 found; /* the watched directory's index, -1 while none */
};

/* One step up: the directory is compared with the watched ones, then its
 * parent (or the mount point above a mount's root) is next. 1 stops. */
static long dir_step(__u32 i, void *ctx)
{
	struct dir_walk *w = ctx;
	/* Copies: CO-RE reads relocate kernel types, not this struct's fields. */
	struct dentry *dentry = w->dentry;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;
	struct inode *inode = BPF_CORE_READ(dentry, d_inode);
	__u64 ino = BPF_CORE_READ(inode, i_ino);
	__u32 dev = BPF_CORE_READ(inode, i_sb, s_dev);
	__u32 n;

	for (n = 0; n < DIRTOP_MAX_DIRS; n++) {
		if (n >= dir_count)
			break;
		if (dirs[n].ino == ino && dirs[n].dev == dev) {
			w->found = n;
			return 1;
		}
	}
	if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (up == mnt) /* the root of the mount namespace */
			return 1;
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		w->vfsmnt = (struct vfsmount *)__builtin_preserve_access_index(&up->mnt);
		return 0;
	}
	w->dentry = BPF_CORE_READ(dentry, d_parent);
	return w->dentry == dentry; /* a root outside the mount tree */
}

static bool file_rw_wanted(struct file *file, __u64 *cookie)
{
	struct vfsmount *vfsmnt = BPF_CORE_READ(file, f_path.mnt);
	struct dir_walk w = {
		.dentry = BPF_CORE_READ(file, f_path.dentry, d_parent),
		.vfsmnt = vfsmnt,
		.mnt = container_of(vfsmnt, struct mount, mnt),
		.found = -1,
	};

	if ((file_rw_mode(file) & FILE_RW_MODE_TYPE) != FILE_RW_MODE_REGULAR || !w.dentry ||
	    !vfsmnt)
		return false;
	bpf_loop(DIRTOP_DEPTH, dir_step, &w, 0);
	if (w.found < 0)
		return false;
	*cookie = w.found;
	return true;
}

static void file_rw_done(struct file *file, __u64 cookie, bool write, long bytes)
{
	static const struct dirtop_value zero = {};
	struct dirtop_key key = { .dir = cookie };
	struct dirtop_value *value = map_lookup_or_insert(&by_dir, &key, &zero);

	if (!value)
		return;
	if (write) {
		__sync_fetch_and_add(&value->writes, 1);
		__sync_fetch_and_add(&value->write_bytes, bytes);
	} else {
		__sync_fetch_and_add(&value->reads, 1);
		__sync_fetch_and_add(&value->read_bytes, bytes);
	}
}

FILE_RW_PROGRAMS()
