/* Block requests across kernel versions, through CO-RE: the disk, device
 * number and operation of a struct request, and the same facts decoded from
 * the block tracepoints' records (for the tier that has no request pointer).
 *
 * What moved:
 * - the disk: rq->rq_disk until 5.16, rq->q->disk since (rq_disk is gone);
 * - the op: the low REQ_OP_BITS of cmd_flags (8 since 4.10); the REQ_OP_*
 *   numbers of the rarer ops (zones, WRITE_SAME) changed in 6.0, so user
 *   space names them from the running kernel's BTF;
 * - REQ_SYNC: its bit follows the op bits and moves with the flag list.
 */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

/* The kernel's dev_t: 12 bits of major above 20 bits of minor (MINORBITS). */
#define BLOCK_MINOR_BITS 20

static __always_inline __u32 block_mkdev(__u32 major, __u32 minor)
{
	return (major << BLOCK_MINOR_BITS) | minor;
}

/* struct request before 5.17 had the disk directly. */
struct request___old {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *block_rq_disk(struct request *rq)
{
	struct request___old *old = (void *)rq;

	if (bpf_core_field_exists(old->rq_disk))
		return BPF_CORE_READ(old, rq_disk);
	return BPF_CORE_READ(rq, q, disk);
}

/* The whole disk's dev_t (requests are per disk, never per partition), or 0
 * for a request without a disk (some passthrough commands). */
static __always_inline __u32 block_rq_dev(struct request *rq)
{
	struct gendisk *disk = block_rq_disk(rq);

	if (!disk)
		return 0;
	return block_mkdev(BPF_CORE_READ(disk, major), BPF_CORE_READ(disk, first_minor));
}

/* REQ_OP_BITS is, by definition, the number of the first flag bit. */
static __always_inline __u32 block_op_bits(void)
{
	if (bpf_core_enum_value_exists(enum req_flag_bits, __REQ_FAILFAST_DEV))
		return bpf_core_enum_value(enum req_flag_bits, __REQ_FAILFAST_DEV);
	return 8;
}

static __always_inline __u32 block_rq_op(struct request *rq)
{
	__u32 flags = BPF_CORE_READ(rq, cmd_flags);

	return flags & ((1U << block_op_bits()) - 1);
}

static __always_inline bool block_rq_sync(struct request *rq)
{
	__u32 flags = BPF_CORE_READ(rq, cmd_flags);

	if (!bpf_core_enum_value_exists(enum req_flag_bits, __REQ_SYNC))
		return false;
	return flags & (1U << bpf_core_enum_value(enum req_flag_bits, __REQ_SYNC));
}

/* The block tracepoints' records carry the request's flags only as the
 * "rwbs" text: an optional F (preflush), one op letter (R read, W write,
 * D discard, DE secure erase, F flush, N anything else), then modifier
 * letters, S among them for REQ_SYNC. These REQ_OP_* numbers have not moved
 * since 4.10. Returns the op, or unknown_op for N. */
#define BLOCK_RWBS_LEN 8

static __always_inline bool block_rwbs_is_op(char c)
{
	return c == 'R' || c == 'W' || c == 'D' || c == 'F' || c == 'N';
}

static __always_inline __u32 block_rwbs_op(const char rwbs[BLOCK_RWBS_LEN], __u32 unknown_op,
					   bool *sync)
{
	/* Letters by value, never rwbs[variable]: clang would turn that into
	 * arithmetic on the stack pointer, which the verifier refuses. */
	char c = rwbs[0], next = rwbs[1];
	__u32 op = unknown_op;

	if (c == 'F' && block_rwbs_is_op(next)) {
		c = next;
		next = rwbs[2];
	}
	if (c == 'R')
		op = REQ_OP_READ;
	else if (c == 'W')
		op = REQ_OP_WRITE;
	else if (c == 'D')
		op = next == 'E' ? REQ_OP_SECURE_ERASE : REQ_OP_DISCARD;
	else if (c == 'F')
		op = REQ_OP_FLUSH;

	*sync = false;
#pragma unroll
	for (int i = 1; i < BLOCK_RWBS_LEN; i++) {
		if (rwbs[i] == '\0')
			break;
		if (rwbs[i] == 'S')
			*sync = true;
	}
	return op;
}

/* The request's flags as the block tracepoints print them ("rwbs", as in
 * the kernel's blk_fill_rwbs): F when a preflush comes first, the op letter
 * (R, W, D, DE for secure erase, F for flush, N for any other op), then F
 * (FUA), A (readahead), S (sync), M (metadata), U (atomic, 6.11+). At most 8
 * letters and the NUL. The flag bits move between versions, so each comes
 * from the running kernel's enum req_flag_bits. The letters are packed into
 * a register and stored in one go: a store at a variable stack offset is
 * refused by older verifiers. */
#define BLOCK_RWBS_MAX 10

/* A flag of enum req_flag_bits, 0 on kernels that lack it. */
#define BLOCK_FLAG(flags, name) BLOCK_FLAG_OF(flags, enum req_flag_bits, name)
#define BLOCK_FLAG_OF(flags, type, name)                                                           \
	(bpf_core_enum_value_exists(type, name) ? ((flags) >> bpf_core_enum_value(type, name)) & 1 \
						: 0)

/* __REQ_ATOMIC (6.11+), written out (flavoured) so that this also compiles
 * against a vmlinux.h older than it (arm64's, from 6.1). */
enum req_flag_bits___new {
	__REQ_ATOMIC___new = 27,
};

static __always_inline void block_rq_rwbs(struct request *rq, char rwbs[BLOCK_RWBS_MAX])
{
	__u32 flags = BPF_CORE_READ(rq, cmd_flags);
	__u32 op = flags & ((1U << block_op_bits()) - 1);
	__u64 packed = 0;
	__u32 shift = 0;

#define BLOCK_RWBS_PUT(c)                                                                          \
	do {                                                                                       \
		packed |= (__u64)(c) << shift;                                                     \
		shift += 8;                                                                        \
	} while (0)

	if (BLOCK_FLAG(flags, __REQ_PREFLUSH))
		BLOCK_RWBS_PUT('F');
	if (op == REQ_OP_WRITE)
		BLOCK_RWBS_PUT('W');
	else if (op == REQ_OP_DISCARD)
		BLOCK_RWBS_PUT('D');
	else if (op == REQ_OP_SECURE_ERASE) {
		BLOCK_RWBS_PUT('D');
		BLOCK_RWBS_PUT('E');
	} else if (op == REQ_OP_FLUSH)
		BLOCK_RWBS_PUT('F');
	else if (op == REQ_OP_READ)
		BLOCK_RWBS_PUT('R');
	else
		BLOCK_RWBS_PUT('N');
	if (BLOCK_FLAG(flags, __REQ_FUA))
		BLOCK_RWBS_PUT('F');
	if (BLOCK_FLAG(flags, __REQ_RAHEAD))
		BLOCK_RWBS_PUT('A');
	if (BLOCK_FLAG(flags, __REQ_SYNC))
		BLOCK_RWBS_PUT('S');
	if (BLOCK_FLAG(flags, __REQ_META))
		BLOCK_RWBS_PUT('M');
	/* Eight letters fill the packed word; the NUL goes after it. */
	if (shift < 64 && BLOCK_FLAG_OF(flags, enum req_flag_bits___new, __REQ_ATOMIC___new))
		BLOCK_RWBS_PUT('U');
#undef BLOCK_RWBS_PUT
	__builtin_memcpy(rwbs, &packed, sizeof(packed));
	rwbs[8] = '\0';
	rwbs[9] = '\0';
}

/* The request's start sector as the tracepoints report it: 0 for a request
 * without one (a flush carries (sector_t)-1). */
static __always_inline __u64 block_rq_sector(struct request *rq)
{
	__u64 sector = BPF_CORE_READ(rq, __sector);

	return sector == (__u64)-1 ? 0 : sector;
}

/* The request among the tracepoint's arguments: args[index], index 0 or 1.
 * The verifier takes only constant offsets into the context, and clang
 * folds args[1] and args[0] behind a branch into one load at a computed
 * offset; so the old layout reads through a helper instead (index is
 * read-only data: the verifier sees only one of the two paths). */
static __always_inline struct request *rq_arg(__u64 *args, __u32 index)
{
	struct request *rq = NULL;

	if (index == 0)
		return (struct request *)args[0];
	bpf_probe_read_kernel(&rq, sizeof(rq), &args[1]);
	return rq;
}
