#!/usr/bin/env python3
"""Copies the kernel's BTF (.BTF, raw, as /sys/kernel/btf/vmlinux serves it)
out of a kernel Image that has no ELF headers (arm64's vmlinuz: the Image
as Debian's linux-image-*-arm64 ships it), for bpftool to dump as vmlinux.h:

    scripts/extract_btf.py IMAGE OUT.btf
    bpftool btf dump file OUT.btf format c > vmlinux/arm64/vmlinux.h

The BTF blob starts with its header (magic 0xeB9F, version 1, header length
24, then the offsets and lengths of its type and string sections); the
largest blob whose header is consistent (type section before strings,
strings starting with a NUL) is the kernel's.
"""
import struct
import sys


def blobs(data):
    magic = struct.pack("<HBBI", 0xEB9F, 1, 0, 24)
    at = data.find(magic)
    while at >= 0:
        type_off, type_len, str_off, str_len = struct.unpack_from("<IIII", data, at + 8)
        size = 24 + str_off + str_len
        if (type_off == 0 and str_off >= type_len and str_len > 0 and at + size <= len(data)
                and data[at + 24 + str_off] == 0):
            yield at, size
        at = data.find(magic, at + 1)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: extract_btf.py IMAGE OUT.btf")
    data = open(sys.argv[1], "rb").read()
    found = sorted(blobs(data), key=lambda b: b[1])
    if not found:
        sys.exit(f"extract_btf.py: no BTF in {sys.argv[1]} (CONFIG_DEBUG_INFO_BTF?)")
    at, size = found[-1]
    with open(sys.argv[2], "wb") as out:
        out.write(data[at:at + size])
    print(f"extract_btf.py: {size} bytes of BTF at offset {at:#x}", file=sys.stderr)


if __name__ == "__main__":
    main()
