/* Files of the current task: the file behind a descriptor, and its path.
 *
 * The path is built in the kernel without bpf_d_path() (which tracepoints
 * may not call): the names of the dentries from the file up to the root,
 * crossing mount points, leaf first, each NUL-terminated, in a buffer of
 * FILE_PATH_MAX bytes; user space joins them (common/event_fields.h
 * path_from_components). Names longer than FILE_NAME_MAX bytes are cut, and
 * a path deeper than FILE_PATH_DEPTH components or longer than the buffer
 * is marked incomplete. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#define FILE_PATH_MAX	4096 /* a power of two */
#define FILE_NAME_MAX	256  /* NAME_MAX + 1 */
#define FILE_PATH_DEPTH 32
/* The buffer: room for one more name past FILE_PATH_MAX, so the verifier
 * sees every read in bounds. */
#define FILE_PATH_BUFFER (FILE_PATH_MAX + FILE_NAME_MAX)

/* current->files->fdt->fd[fd], or NULL. The caller's system call holds its
 * own reference on the file for as long as it runs. */
static __always_inline struct file *current_fd_file(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file *file = NULL;
	struct file **fds;

	if (!fdt || fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return NULL;
	return file;
}

struct file_path_walk {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	char *buf;
	__u32 used;
	bool complete;
};

/* One step up the tree: a name, or a mount point crossed. 1 stops. */
static long file_path_step(__u32 i, void *ctx)
{
	struct file_path_walk *w = ctx;
	/* Copies: CO-RE reads relocate kernel types, not this struct's fields. */
	struct dentry *dentry = w->dentry;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
	__u32 used = w->used;
	long n;

	if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (up == mnt) { /* the root of the mount namespace */
			w->complete = true;
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		w->vfsmnt = (struct vfsmount *)__builtin_preserve_access_index(&up->mnt);
		return 0;
	}
	if (dentry == parent) { /* a root outside the mount tree (a pipe's) */
		w->complete = true;
		return 1;
	}
	if (used >= FILE_PATH_MAX)
		return 1;
	n = bpf_probe_read_kernel_str(w->buf + (used & (FILE_PATH_MAX - 1)), FILE_NAME_MAX,
				      BPF_CORE_READ(dentry, d_name.name));
	if (n <= 0)
		return 1;
	w->used = used + n;
	w->dentry = parent;
	return 0;
}

/* Writes the path components of the dentry on the mount vfsmnt into buf
 * (FILE_PATH_BUFFER bytes of a map value), leaf first; returns the bytes
 * used, 0 when there is none. *complete is set when the walk reached the
 * root: otherwise the path lacks its top. A loop of bpf_loop() (5.17+): its
 * step is verified once, where a plain loop's branches multiply with each
 * iteration. */
static __always_inline __u32 dentry_path_components(struct vfsmount *vfsmnt, struct dentry *dentry,
						    char *buf, bool *complete)
{
	struct file_path_walk w = {
		.dentry = dentry,
		.vfsmnt = vfsmnt,
		.mnt = container_of(vfsmnt, struct mount, mnt),
		.buf = buf,
	};

	*complete = false;
	if (!vfsmnt || !dentry)
		return 0;
	bpf_loop(FILE_PATH_DEPTH, file_path_step, &w, 0);
	*complete = w.complete;
	return w.used < FILE_PATH_BUFFER ? w.used : FILE_PATH_BUFFER;
}

/* file's path, as dentry_path_components writes it. */
static __always_inline __u32 file_path(struct file *file, char *buf, bool *complete)
{
	return dentry_path_components(BPF_CORE_READ(file, f_path.mnt),
				      BPF_CORE_READ(file, f_path.dentry), buf, complete);
}

#define FILES_AT_FDCWD -100

/* The directory a relative path argument of a *at() call is taken from:
 * the current task's working directory for AT_FDCWD, else the directory
 * open on dirfd; its path as dentry_path_components writes it (0 when
 * dirfd is no open file). */
static __always_inline __u32 dirfd_path(long dirfd, char *buf, bool *complete)
{
	struct task_struct *task;
	struct file *dir;

	*complete = false;
	if (dirfd == FILES_AT_FDCWD) {
		task = (struct task_struct *)bpf_get_current_task();
		return dentry_path_components(BPF_CORE_READ(task, fs, pwd.mnt),
					      BPF_CORE_READ(task, fs, pwd.dentry), buf, complete);
	}
	dir = current_fd_file(dirfd);
	if (!dir)
		return 0;
	return file_path(dir, buf, complete);
}
