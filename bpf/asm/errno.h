/* <bpf/usdt.bpf.h> includes <linux/errno.h>, which includes <asm/errno.h>:
 * found in the host's multiarch directory (/usr/include/x86_64-linux-gnu),
 * which the BPF target's include path has not. Every architecture's errno
 * numbers BPF programs use are the generic ones. */
#pragma once

#include <asm-generic/errno.h>
