#!/usr/bin/env python3
"""corescope-static, the statically linked multi-call corescope of this tree
(`ninja corescope-static`): checks that it has no dynamic dependencies,
reports its size, and runs it (and a tool through a symlink named after it)
in an empty root where no libbpf, libelf, zlib or C library exists. The
install layout of a multi-call static build (-Dstatic=true
-Dmulticall=true) is the dist test's (check_dist.py).

Usage: check_static.py CORESCOPE_STATIC TOOL...
"""
import os
import shutil
import subprocess
import sys
import tempfile

from checks import Checks, bpf_permitted, run


def main():
    corescope = sys.argv[1]
    tools = sys.argv[2:]
    c = Checks("static")
    if not c.check(os.path.exists(corescope), "corescope-static is built",
                   f"no {corescope}: meson found no static libbpf, libelf, libdw, zlib, OpenSSL or libcrypt "
                   "(libbpf-dev, libelf-dev, libdw-dev, zlib1g-dev, libssl-dev, libcrypt-dev; "
                   "scripts/setup.sh installs them)"):
        return c.finish()

    r = run(["readelf", "--program-headers", "--dynamic", corescope])
    c.check("INTERP" not in r.stdout and "NEEDED" not in r.stdout and "There is no dynamic section" in r.stdout,
            "corescope has no interpreter and no dynamic section", r.stdout[-1000:])
    r = run(["ldd", corescope])
    c.check("not a dynamic executable" in (r.stdout + r.stderr), "ldd: not a dynamic executable", r.stdout + r.stderr)
    size = os.path.getsize(corescope)
    stripped = tempfile.mktemp(prefix="corescope-stripped-")
    run(["strip", "-o", stripped, corescope])
    stripped_size = os.path.getsize(stripped) if os.path.exists(stripped) else 0
    print(f"static corescope: {size} bytes ({size / 1048576:.1f} MiB), stripped {stripped_size} bytes "
          f"({stripped_size / 1048576:.1f} MiB)")

    # An empty root: only the stripped binary, a symlink named after a tool,
    # and /proc and /sys (the kernel's), in a mount namespace of its own.
    root = tempfile.mkdtemp(prefix="corescope-emptyroot-")
    try:
        os.makedirs(os.path.join(root, "bin"))
        shutil.copy(stripped, os.path.join(root, "bin", "corescope"))
        tool = "opensnoop" if "opensnoop" in tools else tools[0]
        os.symlink("corescope", os.path.join(root, "bin", tool))
        for d in ("proc", "sys", "dev"):
            os.makedirs(os.path.join(root, d))
        libs = [p for p in ("lib", "usr") if os.path.exists(os.path.join(root, p))]
        c.check(not libs, "the empty root has no /lib or /usr")
        script = (f"mount -t proc proc {root}/proc && mount --rbind /sys {root}/sys && "
                  f"mount --rbind /dev {root}/dev && exec chroot {root} \"$@\"")

        def in_root(*argv):
            return run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *argv])

        r = in_root("/bin/corescope", "list")
        c.check(r.returncode == 0 and all(t in r.stdout for t in tools),
                "corescope list runs with no shared libraries", r.stderr)
        r = in_root(f"/bin/{tool}", "--help")
        c.check(r.returncode == 0 and f"Usage: {tool} " in r.stdout,
                f"{tool} (a symlink to corescope) runs as {tool}", r.stdout[:200] + r.stderr)
        if bpf_permitted():
            r = in_root(f"/bin/{tool}", "--dry-run")
            c.check(r.returncode == 0 and r.stdout.strip() != "",
                    f"{tool} --dry-run loads its programs with no shared libraries", r.stderr)
            r = in_root("/bin/corescope", tool, "--dry-run", "-o", "json")
            c.check(r.returncode == 0 and r.stdout.startswith("{"), f"corescope {tool} --dry-run -o json", r.stderr)
        else:
            print("SKIPPED: --dry-run: BPF not permitted here")
    finally:
        subprocess.run(["rm", "-rf", "--one-file-system", root])
        if os.path.exists(stripped):
            os.unlink(stripped)

    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
