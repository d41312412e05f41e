// SPDX-License-Identifier: GPL-2.0
/* oomkill: one event per OOM kill, with the task that triggered it, the task
 * killed, its memory, and what limit was hit.
 *
 * oom_kill_process() (fentry or kprobe) sees the kernel's own decision: the
 * chosen victim, the constraint (global, cpuset, mempolicy, memcg) and the
 * memory the OOM domain may use. Without those, the oom:mark_victim
 * tracepoint fires as each victim is marked, and the constraint is inferred
 * from the victim's memory cgroups: one at its limit makes it a memcg OOM.
 * Either way current is the task whose allocation failed. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "cgroup_id.bpf.h"
#include "events.bpf.h"
#include "oomkill/oomkill.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 page_shift = 12; /* set by the loader */
/* The BTF tracepoint passes (task, uid) since 6.8; (pid) before. */
const volatile bool mark_victim_has_task = true;
/* corescope export: count the kills by constraint (struct oomkill_counts)
 * and send no events. */
const volatile bool counts_only = false;

struct oomkill_counts oom_counts = {};

/* mm counters before 6.2: atomics in struct mm_rss_stat; since, percpu_counters. */
struct mm_rss_stat___old {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
} __attribute__((preserve_access_index));

/* 6.2+: an array of per-CPU counters (written out so that the program also
 * compiles against an older vmlinux.h: arm64's, from 6.1). */
struct mm_struct___new {
	struct percpu_counter rss_stat[4];
} __attribute__((preserve_access_index));

/* enum NR_MM_COUNTERS, stable since 4.5 */
#define MM_FILEPAGES  0
#define MM_ANONPAGES  1
#define MM_SHMEMPAGES 3

static __always_inline __u64 mm_counter(struct mm_struct *mm, int member)
{
	long pages;

	if (bpf_core_type_exists(struct mm_rss_stat___old))
		pages = BPF_CORE_READ((struct mm_struct___old *)mm, rss_stat.count[member].counter);
	else
		pages = BPF_CORE_READ((struct mm_struct___new *)mm, rss_stat[member].count);
	return pages > 0 ? pages : 0;
}

static __always_inline __u64 pages_to_kb(__u64 pages) { return pages << (page_shift - 10); }

/* The memory figures of the kernel's own report, from the victim. */
static __always_inline void read_memory(struct oomkill_event *e, struct task_struct *task)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);

	if (!mm)
		return; /* a zombie thread group leader: another thread holds the mm */
	e->total_vm_kb = pages_to_kb(BPF_CORE_READ(mm, total_vm));
	e->anon_rss_kb = pages_to_kb(mm_counter(mm, MM_ANONPAGES));
	e->file_rss_kb = pages_to_kb(mm_counter(mm, MM_FILEPAGES));
	e->shmem_rss_kb = pages_to_kb(mm_counter(mm, MM_SHMEMPAGES));
	if (bpf_core_field_exists(mm->pgtables_bytes))
		e->pgtables_kb = BPF_CORE_READ(mm, pgtables_bytes.counter) >> 10;
	e->oom_score_adj = BPF_CORE_READ(task, signal, oom_score_adj);
	e->flags |= OOMKILL_HAVE_MEMORY;
}

static __always_inline void read_victim(struct oomkill_event *e, struct task_struct *task)
{
	e->victim_pid = BPF_CORE_READ(task, tgid);
	e->victim_tid = BPF_CORE_READ(task, pid);
	e->victim_uid = BPF_CORE_READ(task, real_cred, uid.val);
	BPF_CORE_READ_STR_INTO(&e->victim_comm, task, comm);
	e->flags |= OOMKILL_HAVE_VICTIM_COMM | OOMKILL_HAVE_VICTIM_TGID | OOMKILL_HAVE_UID;
	read_memory(e, task);
}

static __always_inline void read_trigger(struct oomkill_event *e)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	e->ts_ns = bpf_ktime_get_ns();
	e->trigger_pid = pid_tgid >> 32;
	e->trigger_tid = (__u32)pid_tgid;
	bpf_get_current_comm(e->trigger_comm, sizeof(e->trigger_comm));
}

static __always_inline __u64 memcg_cgroup_id(struct mem_cgroup *memcg)
{
	return cgroup_node_id(BPF_CORE_READ(memcg, css.cgroup));
}

/* A memcg OOM happens when a charge cannot fit under some memory cgroup's
 * limit, so at the kill one of the victim's memory cgroups is within a
 * charge (at most a huge page) of its limit. The root's is unlimited. */
#define MEMCG_DEPTH	   16
#define CHARGE_SLACK_PAGES 512

static __always_inline void infer_constraint(struct oomkill_event *e, struct task_struct *task)
{
	int memory_id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct cgroup_subsys_state *css = NULL;
	struct css_set *cset = BPF_CORE_READ(task, cgroups);

	e->constraint = OOMKILL_CONSTRAINT_NONE;
	e->flags |= OOMKILL_CONSTRAINT_INFERRED;
	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id) || memory_id < 0 ||
	    memory_id >= CGROUP_SUBSYS_COUNT)
		return;
	bpf_core_read(&css, sizeof(css), &cset->subsys[memory_id]);
	for (int i = 0; i < MEMCG_DEPTH && css; i++) {
		struct mem_cgroup *memcg = (struct mem_cgroup *)css; /* css is its first member */
		unsigned long usage = BPF_CORE_READ(memcg, memory.usage.counter);
		unsigned long max = BPF_CORE_READ(memcg, memory.max);

		if (!BPF_CORE_READ(css, parent))
			break; /* the root: no limit */
		if (usage + CHARGE_SLACK_PAGES >= max) {
			e->constraint = OOMKILL_CONSTRAINT_MEMCG;
			e->memcg_id = memcg_cgroup_id(memcg);
			e->allowed_kb = pages_to_kb(max);
			return;
		}
		css = BPF_CORE_READ(css, parent);
	}
}

/* One kill: an event, or under counts_only a count. */
static __always_inline void report(void *ctx, struct oomkill_event *e)
{
	__u32 slot = e->constraint;

	if (!counts_only) {
		events_output(ctx, e, sizeof(*e));
		return;
	}
	if (slot > OOMKILL_CONSTRAINT_MEMCG)
		slot = OOMKILL_COUNT_UNKNOWN;
	__sync_fetch_and_add(&oom_counts.kills[slot], 1);
}

/* Tier 1 and 2: the OOM killer's decision. */

static __always_inline int on_oom_kill_process(void *ctx, struct oom_control *oc)
{
	struct oomkill_event e = {};
	struct task_struct *victim = BPF_CORE_READ(oc, chosen);
	struct mem_cgroup *memcg = BPF_CORE_READ(oc, memcg);

	read_trigger(&e);
	if (victim)
		read_victim(&e, victim);
	e.constraint = BPF_CORE_READ(oc, constraint);
	e.allowed_kb = pages_to_kb(BPF_CORE_READ(oc, totalpages));
	if (memcg)
		e.memcg_id = memcg_cgroup_id(memcg);
	report(ctx, &e);
	return 0;
}

SEC("fentry/oom_kill_process")
int BPF_PROG(fentry_oom_kill_process, struct oom_control *oc, const char *message)
{
	return on_oom_kill_process(ctx, oc);
}

SEC("kprobe/oom_kill_process")
int BPF_KPROBE(kprobe_oom_kill_process, struct oom_control *oc, const char *message)
{
	return on_oom_kill_process(ctx, oc);
}

/* Tier 3: the BTF tracepoint, mark_victim(task, uid) (6.8+). */

SEC("tp_btf/mark_victim")
int BPF_PROG(btf_mark_victim)
{
	struct task_struct *victim;
	struct oomkill_event e = {};

	if (!mark_victim_has_task)
		return 0; /* the loader does not choose this tier then */
	victim = (struct task_struct *)ctx[0];
	read_trigger(&e);
	read_victim(&e, victim);
	infer_constraint(&e, victim);
	report(ctx, &e);
	return 0;
}

/* Tier 4: the tracefs tracepoint. Its fields grew in 6.8; before, only the
 * PID. The kernel fills them the way read_memory() does. */

struct trace_event_raw_mark_victim___corescope {
	int pid;
	__u32 __data_loc_comm;
	unsigned long total_vm;
	unsigned long anon_rss;
	unsigned long file_rss;
	unsigned long shmem_rss;
	uid_t uid;
	unsigned long pgtables;
	short oom_score_adj;
} __attribute__((preserve_access_index));

SEC("tracepoint/oom/mark_victim")
int tp_mark_victim(struct trace_event_raw_mark_victim___corescope *args)
{
	struct oomkill_event e = {};

	read_trigger(&e);
	e.victim_pid = e.victim_tid = args->pid;
	e.constraint = OOMKILL_CONSTRAINT_UNKNOWN;
	if (bpf_core_field_exists(args->__data_loc_comm)) {
		__u32 loc = args->__data_loc_comm;

		bpf_probe_read_kernel_str(e.victim_comm, sizeof(e.victim_comm),
					  (void *)args + (loc & 0xffff));
		e.flags |= OOMKILL_HAVE_VICTIM_COMM;
	}
	if (bpf_core_field_exists(args->total_vm)) {
		/* already in kB */
		e.total_vm_kb = args->total_vm;
		e.anon_rss_kb = args->anon_rss;
		e.file_rss_kb = args->file_rss;
		e.shmem_rss_kb = args->shmem_rss;
		e.pgtables_kb = args->pgtables;
		e.oom_score_adj = args->oom_score_adj;
		e.victim_uid = args->uid;
		e.flags |= OOMKILL_HAVE_MEMORY | OOMKILL_HAVE_UID;
	}
	report(args, &e);
	return 0;
}
