/* call_loop COUNT: COUNT calls of the C library's abs() through a
 * volatile function pointer (the compiler can neither inline nor drop
 * them); prints the wall-clock ns per call. Each call is one hit for
 * funccount LIBC:abs. abs is a leaf of a few instructions that no other
 * program on the machine calls often, so a probe on it costs what the
 * probe costs. */
#include "common.h"

int main(int argc, char** argv) {
    int (*volatile f)(int) = abs;
    uint64_t count, t0;
    long sum = 0;

    if (argc != 2) die("usage: call_loop COUNT");
    count = parse_count("COUNT", argv[1]);
    t0 = now_ns();
    for (uint64_t i = 0; i < count; i++)
        sum += f(-(int)(i & 0xffff));
    print_ns_per_iter(now_ns() - t0, count);
    return sum == 1; /* never: keeps sum */
}
