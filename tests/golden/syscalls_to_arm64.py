#!/usr/bin/env python3
"""Makes an arm64 golden input from an x86_64 one of a system call counter.

Usage: syscalls_to_arm64.py IN OUT

IN holds map entries of syscount or vfscount by system call (a u32 size,
then a u32 key, the system call's x86_64 number, then the counts). OUT gets
the same entries keyed by arm64's numbers (the generic table), as the tool
reads them on an arm64 machine after the same calls: each call's counts
move to its arm64 number, and a call arm64 does not have to the one its C
library makes there instead (readlink is readlinkat on arm64). The tables
are those of common/syscall_names.h. An input holding every key from 0 (a
whole map) gives every key from 0 to at least as many; one holding only
calls made gives those, by arm64 number."""
import os
import re
import sys

# Calls arm64 lacks, and what glibc calls there instead.
INSTEAD = {"readlink": "readlinkat", "open": "openat", "stat": "newfstatat",
           "lstat": "newfstatat", "unlink": "unlinkat", "rename": "renameat2"}


def tables():
    header = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                          "common", "syscall_names.h")
    found = {}
    for name, body in re.findall(r"string_view (\w+)\[\d+\] = \{(.*?)\n\};",
                                 open(header).read(), re.S):
        found[name] = re.findall(r'"(\w*)", // (\d+)', body)
    x86 = {int(nr): call for call, nr in found["x86_64"]}
    generic = {call: int(nr) for call, nr in found["generic"] if call}
    return x86, generic


def main():
    source, target = sys.argv[1:]
    x86, generic = tables()
    data = open(source, "rb").read()
    entries = []
    at = 0
    while at + 4 <= len(data):
        size = int.from_bytes(data[at:at + 4], sys.byteorder)
        entries.append(data[at + 4:at + 4 + size])
        at += 4 + size
    sizes = {len(e) for e in entries}
    if len(sizes) != 1:
        sys.exit(f"syscalls_to_arm64.py: {source}: entries of sizes {sorted(sizes)}")
    size = sizes.pop()
    values = {}
    keys = [int.from_bytes(e[:4], sys.byteorder) for e in entries]
    dense = sorted(keys) == list(range(len(keys)))
    for e in entries:
        nr = int.from_bytes(e[:4], sys.byteorder)
        if not any(e[4:]):
            continue
        call = x86.get(nr, "")
        call = INSTEAD.get(call, call)
        if call not in generic:
            sys.exit(f"syscalls_to_arm64.py: x86_64's call {nr} ({call or 'unknown'}) "
                     "has no arm64 number")
        if generic[call] in values:
            sys.exit(f"syscalls_to_arm64.py: two calls become arm64's {call}")
        values[generic[call]] = e[4:]
    keys = range(max(len(entries) - 1, max(values)) + 1) if dense else sorted(values)
    with open(target, "wb") as out:
        for nr in keys:
            out.write(size.to_bytes(4, sys.byteorder) + nr.to_bytes(4, sys.byteorder))
            out.write(values.get(nr, bytes(size - 4)))


if __name__ == "__main__":
    main()
