// corescope-probe: which BPF attach types does this kernel really offer?
//
// For each attach type, load one program on its own, attach it, make the
// kernel fire it from this process, and check that it counted. Prints one
// line per attach type and a summary line; with --require, exits 1 when a
// listed type did not work, so a kernel-matrix run can assert on it.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probe.skel.h"

enum kind {
    K_KPROBE,
    K_KRETPROBE,
    K_FENTRY,
    K_FEXIT,
    K_TRACEPOINT,
    K_RAW_TP,
    K_TP_BTF,
    K_PERF_EVENT,
    K_RINGBUF,
    K_PERFBUF,
    K_COUNT
};

static const struct {
    const char* name; // name printed and accepted by --require
    const char* prog; // BPF program name in probe.bpf.c
} kinds[K_COUNT] = {
    [K_KPROBE] = {"kprobe", "probe_kprobe"},
    [K_KRETPROBE] = {"kretprobe", "probe_kretprobe"},
    [K_FENTRY] = {"fentry", "probe_fentry"},
    [K_FEXIT] = {"fexit", "probe_fexit"},
    [K_TRACEPOINT] = {"tracepoint", "probe_tracepoint"},
    [K_RAW_TP] = {"raw_tp", "probe_raw_tp"},
    [K_TP_BTF] = {"tp_btf", "probe_tp_btf"},
    [K_PERF_EVENT] = {"perf_event", "probe_perf_event"},
    [K_RINGBUF] = {"ringbuf", "probe_ringbuf"},
    [K_PERFBUF] = {"perfbuf", "probe_perfbuf"},
};

static bool verbose;
static const char* func = "do_sys_openat2";

static int print_libbpf(enum libbpf_print_level level, const char* fmt, va_list ap) {
    (void)level;
    // Failures are reported by our own line; -v adds libbpf's (verifier log).
    if (!verbose) return 0;
    return vfprintf(stderr, fmt, ap);
}

// Make the kernel run the probes: openat() passes through the syscall
// tracepoints and do_sys_openat2 (the default --func).
static void trigger_syscalls(void) {
    for (int i = 0; i < 5; i++) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd >= 0) close(fd);
    }
}

static void burn_cpu(int ms) {
    struct timespec start, now;
    volatile unsigned long x = 0;

    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        for (int i = 0; i < 100000; i++)
            x += i;
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < ms);
}

static int on_ring_event(void* ctx, void* data, size_t size) {
    (void)data;
    (void)size;
    (*(long*)ctx)++;
    return 0;
}

static void on_perf_event(void* ctx, int cpu, void* data, __u32 size) {
    (void)cpu;
    (void)data;
    (void)size;
    (*(long*)ctx)++;
}

struct result {
    bool ok;
    const char* stage; // where it failed: open, load, attach, fire
    int err;           // positive errno, 0 if none
    unsigned long long hits;
    long delivered; // events that reached user space (ringbuf/perfbuf)
};

static struct bpf_link* attach(enum kind k, struct bpf_program* prog, int* perf_fd) {
    switch (k) {
    case K_KPROBE:
        return bpf_program__attach_kprobe(prog, false, func);
    case K_KRETPROBE:
        return bpf_program__attach_kprobe(prog, true, func);
    case K_PERF_EVENT: {
        struct perf_event_attr attr = {
            .type = PERF_TYPE_SOFTWARE,
            .config = PERF_COUNT_SW_CPU_CLOCK,
            .size = sizeof(attr),
            .freq = 1,
            .sample_freq = 1000,
        };
        // This process only, any CPU.
        *perf_fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
        if (*perf_fd < 0) return NULL;
        return bpf_program__attach_perf_event(prog, *perf_fd);
    }
    default:
        return bpf_program__attach(prog);
    }
}

static struct result run_one(enum kind k) {
    struct result r = {.ok = false, .stage = "open"};
    struct probe_bpf* skel = NULL;
    struct bpf_program *want = NULL, *prog;
    struct bpf_link* link = NULL;
    struct ring_buffer* rb = NULL;
    struct perf_buffer* pb = NULL;
    int perf_fd = -1, err;

    skel = probe_bpf__open();
    if (!skel) {
        r.err = errno;
        goto out;
    }
    bpf_object__for_each_program(prog, skel->obj) {
        bool is_want = strcmp(bpf_program__name(prog), kinds[k].prog) == 0;
        bpf_program__set_autoload(prog, is_want);
        if (is_want) want = prog;
    }
    // Create the output maps only for the case that uses them, so a kernel
    // without ring buffers still gets every other type tested.
    bpf_map__set_autocreate(skel->maps.ring, k == K_RINGBUF);
    bpf_map__set_autocreate(skel->maps.perf, k == K_PERFBUF);
    skel->rodata->target_tgid = getpid();
    if (k == K_FENTRY || k == K_FEXIT) {
        err = bpf_program__set_attach_target(want, 0, func);
        if (err) {
            r.err = -err;
            goto out;
        }
    }

    r.stage = "load";
    err = probe_bpf__load(skel);
    if (err) {
        r.err = -err;
        goto out;
    }

    r.stage = "attach";
    link = attach(k, want, &perf_fd);
    if (!link) {
        r.err = errno;
        goto out;
    }
    if (k == K_RINGBUF) {
        rb = ring_buffer__new(bpf_map__fd(skel->maps.ring), on_ring_event, &r.delivered, NULL);
        if (!rb) {
            r.err = errno;
            goto out;
        }
    } else if (k == K_PERFBUF) {
        pb = perf_buffer__new(bpf_map__fd(skel->maps.perf), 8, on_perf_event, NULL, &r.delivered,
                              NULL);
        if (!pb) {
            r.err = errno;
            goto out;
        }
    }

    r.stage = "fire";
    if (k == K_PERF_EVENT)
        burn_cpu(200);
    else
        trigger_syscalls();
    if (rb) ring_buffer__poll(rb, 100);
    if (pb) perf_buffer__poll(pb, 100);
    r.hits = skel->bss->hits;
    if (r.hits == 0 || ((rb || pb) && r.delivered == 0)) {
        r.err = 0;
        goto out;
    }
    r.ok = true;
    r.stage = "";
out:
    ring_buffer__free(rb);
    perf_buffer__free(pb);
    bpf_link__destroy(link);
    if (perf_fd >= 0) close(perf_fd);
    probe_bpf__destroy(skel);
    return r;
}

static void print_kernel(void) {
    struct utsname u;
    char buf[256] = "";
    FILE* f;

    if (uname(&u) == 0) printf("kernel: %s %s\n", u.release, u.machine);
    printf("btf: %s\n", access("/sys/kernel/btf/vmlinux", R_OK) == 0 ? "yes" : "no");
    printf("tracefs: %s\n", access("/sys/kernel/tracing/events", R_OK) == 0
                                ? "/sys/kernel/tracing"
                                : (access("/sys/kernel/debug/tracing/events", R_OK) == 0
                                       ? "/sys/kernel/debug/tracing"
                                       : "not mounted"));
    f = fopen("/sys/kernel/security/lockdown", "r");
    if (f && fgets(buf, sizeof(buf), f)) {
        buf[strcspn(buf, "\n")] = '\0';
        printf("lockdown: %s\n", buf);
    } else {
        printf("lockdown: unknown (securityfs not mounted or no lockdown LSM)\n");
    }
    if (f) fclose(f);
}

static void usage(FILE* out) {
    fprintf(out, "usage: corescope-probe [-v] [--func NAME] [--only LIST] [--require LIST]\n"
                 "  --func NAME     kernel function for kprobe/kretprobe/fentry/fexit"
                 " (default do_sys_openat2)\n"
                 "  --only LIST     comma-separated types to test (default: all)\n"
                 "  --require LIST  exit 1 unless every listed type works\n"
                 "  -v              print libbpf's messages (verifier log on failure)\n"
                 "types:");
    for (int k = 0; k < K_COUNT; k++)
        fprintf(out, " %s", kinds[k].name);
    fprintf(out, "\n");
}

// Parse "a,b,c" into a mask; returns false (and names the bad item) on error.
static bool parse_list(const char* list, bool mask[K_COUNT]) {
    char *copy = strdup(list), *save = NULL;
    bool ok = true;

    for (char* t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int k;
        for (k = 0; k < K_COUNT; k++)
            if (strcmp(t, kinds[k].name) == 0) break;
        if (k == K_COUNT) {
            fprintf(stderr, "corescope-probe: unknown type '%s'\n", t);
            ok = false;
            break;
        }
        mask[k] = true;
    }
    free(copy);
    return ok;
}

int main(int argc, char** argv) {
    bool only[K_COUNT] = {0}, require[K_COUNT] = {0}, have_only = false;
    bool works[K_COUNT] = {0};
    int missing = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = true;
        } else if (strcmp(argv[i], "--func") == 0 && i + 1 < argc) {
            func = argv[++i];
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            if (!parse_list(argv[++i], only)) return 2;
            have_only = true;
        } else if (strcmp(argv[i], "--require") == 0 && i + 1 < argc) {
            if (!parse_list(argv[++i], require)) return 2;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "corescope-probe: bad argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    setvbuf(stdout, NULL, _IOLBF, 0);
    libbpf_set_print(print_libbpf);
    print_kernel();
    printf("function: %s\n", func);

    for (int k = 0; k < K_COUNT; k++) {
        struct result r;

        if (have_only && !only[k] && !require[k]) continue;
        r = run_one(k);
        works[k] = r.ok;
        if (r.ok && (k == K_RINGBUF || k == K_PERFBUF))
            printf("%-11s ok    hits=%llu delivered=%ld\n", kinds[k].name, r.hits, r.delivered);
        else if (r.ok)
            printf("%-11s ok    hits=%llu\n", kinds[k].name, r.hits);
        else if (r.err)
            printf("%-11s FAIL  %s: %s (errno %d)\n", kinds[k].name, r.stage, strerror(r.err),
                   r.err);
        else
            printf("%-11s FAIL  %s: attached but no event seen (hits=%llu delivered=%ld)\n",
                   kinds[k].name, r.stage, r.hits, r.delivered);
    }

    printf("summary:");
    for (int k = 0; k < K_COUNT; k++)
        if (!have_only || only[k] || require[k])
            printf(" %s=%s", kinds[k].name, works[k] ? "yes" : "no");
    printf("\n");

    for (int k = 0; k < K_COUNT; k++) {
        if (require[k] && !works[k]) {
            fprintf(stderr, "corescope-probe: required type '%s' does not work here\n",
                    kinds[k].name);
            missing++;
        }
    }
    return missing ? 1 : 0;
}
