// SPDX-License-Identifier: GPL-2.0
/* memleak: allocations not yet freed, by address, with the stack that made
 * them; user space sums them by stack every interval.
 *
 * User mode: uprobes on the C library's allocation functions save the size
 * per thread; their return probes take the address returned and the user
 * stack (at the return the stack starts in the caller, which an entry probe
 * would skip); free and munmap delete. A call nested in another (realloc
 * calling malloc, malloc calling mmap, where the inner symbol is exported)
 * is counted once, by the outermost call.
 *
 * Kernel mode: the kmem tracepoints (kmalloc, kmem_cache_alloc, the page
 * allocator and, with --percpu, the per-CPU allocator) and their frees.
 * Raw tracepoints, else tracefs ones. (Not tp_btf: 6.1's verifier refuses
 * a BTF program reading the void * these tracepoints pass.) */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "filters.bpf.h"
#include "stacks.bpf.h"
#include "memleak/memleak.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 min_size = 0;
const volatile __u64 max_size = ~0ULL;
const volatile __u32 sample_every = 1; /* 1 in N allocations, at random */
const volatile bool take_stacks = true;

__u64 counters[MEMLEAK_COUNTERS];

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MEMLEAK_MAX_ALLOCS);
	__type(key, struct memleak_key);
	__type(value, struct memleak_alloc);
} allocs SEC(".maps");

/* A thread inside an allocation function: what it asked for. */
struct pending {
	__u64 size;
	__u64 memptr; /* posix_memalign: where the address goes */
	__u32 depth;  /* calls nested in the outermost one */
	__u32 skip;   /* filtered out or outside the sizes: record nothing */
};

/* LRU: a thread that dies inside a call leaves its entry to be evicted. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MEMLEAK_MAX_PENDING);
	__type(key, __u32);
	__type(value, struct pending);
} pendings SEC(".maps");

static __always_inline bool wanted(__u64 size)
{
	if (size < min_size || size > max_size)
		return false;
	if (sample_every > 1 && bpf_get_prandom_u32() % sample_every)
		return false;
	return true;
}

static __always_inline void record(void *ctx, __u64 address, __u32 key_pid, __u64 size, __u32 kind,
				   __u64 stack_flags)
{
	struct memleak_key key = { .address = address, .pid = key_pid };
	struct memleak_alloc alloc = {};

	alloc.size = size;
	alloc.ts_ns = bpf_ktime_get_ns();
	alloc.pid = bpf_get_current_pid_tgid() >> 32;
	alloc.kind = kind;
	alloc.stack_id = take_stacks ? stack_id_of(ctx, stack_flags) : STACK_ID_NONE;
	if (bpf_map_update_elem(&allocs, &key, &alloc, BPF_ANY))
		__sync_fetch_and_add(&counters[MEMLEAK_ALLOCS_DROPPED], 1);
}

static __always_inline void forget(__u64 address, __u32 key_pid)
{
	struct memleak_key key = { .address = address, .pid = key_pid };

	bpf_map_delete_elem(&allocs, &key);
}

/* User mode. */

static __always_inline int on_entry(__u64 size, __u64 memptr)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending *p = bpf_map_lookup_elem(&pendings, &tid);
	struct pending fresh = {};

	if (p) {
		p->depth++;
		return 0;
	}
	fresh.size = size;
	fresh.memptr = memptr;
	fresh.skip = current_filtered_out() || !wanted(size);
	bpf_map_update_elem(&pendings, &tid, &fresh, BPF_ANY);
	return 0;
}

/* The outermost call's entry, taken off the map; false for a nested call. */
static __always_inline bool on_return(struct pending *out)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending *p = bpf_map_lookup_elem(&pendings, &tid);

	if (!p)
		return false;
	if (p->depth) {
		p->depth--;
		return false;
	}
	*out = *p;
	bpf_map_delete_elem(&pendings, &tid);
	return !out->skip;
}

static __always_inline int returned(void *ctx, __u64 address, __u32 kind)
{
	struct pending p;

	if (!on_return(&p) || !address)
		return 0;
	record(ctx, address, bpf_get_current_pid_tgid() >> 32, p.size, kind, BPF_F_USER_STACK);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(malloc_entry, __u64 size) { return on_entry(size, 0); }

SEC("uprobe")
int BPF_KPROBE(calloc_entry, __u64 n, __u64 size) { return on_entry(n * size, 0); }

/* realloc frees the old block whatever it returns (a failed realloc keeps
 * it: rare, and then shown freed). */
SEC("uprobe")
int BPF_KPROBE(realloc_entry, __u64 ptr, __u64 size)
{
	if (ptr)
		forget(ptr, bpf_get_current_pid_tgid() >> 32);
	return on_entry(size, 0);
}

SEC("uprobe")
int BPF_KPROBE(reallocarray_entry, __u64 ptr, __u64 n, __u64 size)
{
	if (ptr)
		forget(ptr, bpf_get_current_pid_tgid() >> 32);
	return on_entry(n * size, 0);
}

/* aligned_alloc and memalign: (alignment, size). */
SEC("uprobe")
int BPF_KPROBE(aligned_entry, __u64 alignment, __u64 size) { return on_entry(size, 0); }

/* valloc and pvalloc: (size). */
SEC("uprobe")
int BPF_KPROBE(valloc_entry, __u64 size) { return on_entry(size, 0); }

SEC("uprobe")
int BPF_KPROBE(posix_memalign_entry, __u64 memptr, __u64 alignment, __u64 size)
{
	return on_entry(size, memptr);
}

SEC("uprobe")
int BPF_KPROBE(mmap_entry, __u64 addr, __u64 length) { return on_entry(length, 0); }

/* One return program for every function that returns the address. */
SEC("uretprobe")
int BPF_KRETPROBE(alloc_return, __u64 address) { return returned(ctx, address, MEMLEAK_USER); }

SEC("uretprobe")
int BPF_KRETPROBE(mmap_return, __u64 address)
{
	if (address == ~0ULL) /* MAP_FAILED */
		address = 0;
	return returned(ctx, address, MEMLEAK_MMAP);
}

SEC("uretprobe")
int BPF_KRETPROBE(posix_memalign_return, int err)
{
	struct pending p;
	__u64 address = 0;

	if (!on_return(&p) || err || !p.memptr)
		return 0;
	if (bpf_probe_read_user(&address, sizeof(address), (void *)p.memptr) || !address)
		return 0;
	record(ctx, address, bpf_get_current_pid_tgid() >> 32, p.size, MEMLEAK_USER,
	       BPF_F_USER_STACK);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(free_entry, __u64 ptr)
{
	if (ptr)
		forget(ptr, bpf_get_current_pid_tgid() >> 32);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(munmap_entry, __u64 addr)
{
	forget(addr, bpf_get_current_pid_tgid() >> 32);
	return 0;
}

/* --command: the command stops itself (SIGSTOP) as it enters exit(), so
 * that the loader reads its mappings (to name its stacks later) before they
 * are gone, and lets it go on. */
const volatile __u32 command_pid = 0;

SEC("uprobe")
int BPF_KPROBE(exit_entry)
{
	if (command_pid && (bpf_get_current_pid_tgid() >> 32) == command_pid)
		bpf_send_signal(19); /* SIGSTOP */
	return 0;
}

/* Kernel mode: whoever frees, the key's pid is 0. */

static __always_inline int kernel_alloc(void *ctx, __u64 address, __u64 size, __u32 kind)
{
	if (!address || current_filtered_out() || !wanted(size))
		return 0;
	record(ctx, address, 0, size, kind, 0);
	return 0;
}

static __always_inline int kernel_free(__u64 address)
{
	if (address)
		forget(address, 0);
	return 0;
}

#define PAGE_BYTES 4096ULL

/* Raw tracepoints (the same arguments since 6.0):
 * kmalloc(call_site, ptr, bytes_req, bytes_alloc, gfp_flags, node)
 * kmem_cache_alloc(call_site, ptr, s, gfp_flags, node)
 * kfree(call_site, ptr), kmem_cache_free(call_site, ptr, s or name)
 * mm_page_alloc(page, order, gfp_flags, migratetype), mm_page_free(page, order),
 * mm_page_free_batched(page)
 * percpu_alloc_percpu(call_site, reserved, is_atomic, size, align, base_addr, off,
 *                     ptr, bytes_alloc, gfp_flags), percpu_free_percpu(base_addr, off, ptr) */

SEC("raw_tp/kmalloc")
int raw_kmalloc(struct bpf_raw_tracepoint_args *ctx)
{
	return kernel_alloc(ctx, ctx->args[1], ctx->args[3], MEMLEAK_KMALLOC);
}

SEC("raw_tp/kmem_cache_alloc")
int raw_cache_alloc(struct bpf_raw_tracepoint_args *ctx)
{
	struct kmem_cache *s = (struct kmem_cache *)ctx->args[2];

	return kernel_alloc(ctx, ctx->args[1], s ? BPF_CORE_READ(s, size) : 0, MEMLEAK_CACHE);
}

SEC("raw_tp/kfree")
int raw_kfree(struct bpf_raw_tracepoint_args *ctx) { return kernel_free(ctx->args[1]); }

SEC("raw_tp/kmem_cache_free")
int raw_cache_free(struct bpf_raw_tracepoint_args *ctx) { return kernel_free(ctx->args[1]); }

SEC("raw_tp/mm_page_alloc")
int raw_page_alloc(struct bpf_raw_tracepoint_args *ctx)
{
	return kernel_alloc(ctx, ctx->args[0], PAGE_BYTES << (ctx->args[1] & 31), MEMLEAK_PAGE);
}

SEC("raw_tp/mm_page_free")
int raw_page_free(struct bpf_raw_tracepoint_args *ctx) { return kernel_free(ctx->args[0]); }

SEC("raw_tp/mm_page_free_batched")
int raw_page_free_batched(struct bpf_raw_tracepoint_args *ctx) { return kernel_free(ctx->args[0]); }

SEC("raw_tp/percpu_alloc_percpu")
int raw_percpu_alloc(struct bpf_raw_tracepoint_args *ctx)
{
	return kernel_alloc(ctx, ctx->args[7], ctx->args[8], MEMLEAK_PERCPU);
}

SEC("raw_tp/percpu_free_percpu")
int raw_percpu_free(struct bpf_raw_tracepoint_args *ctx) { return kernel_free(ctx->args[2]); }

/* tracefs tracepoints: the records' fields by name (pages by frame number). */

SEC("tracepoint/kmem/kmalloc")
int tp_kmalloc(struct trace_event_raw_kmalloc *args)
{
	return kernel_alloc(args, (__u64)args->ptr, args->bytes_alloc, MEMLEAK_KMALLOC);
}

SEC("tracepoint/kmem/kmem_cache_alloc")
int tp_cache_alloc(struct trace_event_raw_kmem_cache_alloc *args)
{
	return kernel_alloc(args, (__u64)args->ptr, args->bytes_alloc, MEMLEAK_CACHE);
}

SEC("tracepoint/kmem/kfree")
int tp_kfree(struct trace_event_raw_kfree *args) { return kernel_free((__u64)args->ptr); }

SEC("tracepoint/kmem/kmem_cache_free")
int tp_cache_free(struct trace_event_raw_kmem_cache_free *args)
{
	return kernel_free((__u64)args->ptr);
}

SEC("tracepoint/kmem/mm_page_alloc")
int tp_page_alloc(struct trace_event_raw_mm_page_alloc *args)
{
	return kernel_alloc(args, args->pfn, PAGE_BYTES << (args->order & 31), MEMLEAK_PAGE);
}

SEC("tracepoint/kmem/mm_page_free")
int tp_page_free(struct trace_event_raw_mm_page_free *args) { return kernel_free(args->pfn); }

SEC("tracepoint/kmem/mm_page_free_batched")
int tp_page_free_batched(struct trace_event_raw_mm_page_free_batched *args)
{
	return kernel_free(args->pfn);
}

SEC("tracepoint/percpu/percpu_alloc_percpu")
int tp_percpu_alloc(struct trace_event_raw_percpu_alloc_percpu *args)
{
	return kernel_alloc(args, (__u64)args->ptr, args->bytes_alloc, MEMLEAK_PERCPU);
}

SEC("tracepoint/percpu/percpu_free_percpu")
int tp_percpu_free(struct trace_event_raw_percpu_free_percpu *args)
{
	return kernel_free((__u64)args->ptr);
}
