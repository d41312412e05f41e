#!/usr/bin/env python3
"""`meson dist` and what is built from its tarball.

  dist: makes the tarball (of the committed tree), unpacks it, builds it
        offline with system packages only (--wrap-mode=nofallback) as the
        static multi-call corescope with a prefix (-Dstatic=true
        -Dmulticall=true -Dtool_prefix=bpf-), and checks that build's
        install: corescope and a prefixed symlink to it per tool. It builds
        two tools (DIST_TOOLS), unoptimized: the tarball holds the whole
        committed tree, and what it must carry besides (vmlinux.h, debian/,
        the man page sources) every tool needs alike; the deb test builds
        them all, with shared libraries.
  deb:  makes the tarball, builds the Debian package from the unpacked tree
        (dpkg-buildpackage -b -us -uc), installs it with apt-get install
        ./corescope_*.deb, checks its dependencies and runs corescope and a
        tool from /usr/sbin, then removes it again.
  deb-arm64: the same package cross-built for arm64 (dpkg-buildpackage -a
        arm64 -Pcross: Debian's aarch64 cross compiler and the arm64
        libraries through multiarch, scripts/setup.sh --arm64), checks its
        architecture, Depends (the arm64 libraries' packages) and contents,
        and runs its corescope under qemu-aarch64-static (not installed: an
        amd64 host cannot). Skipped when the cross toolchain is missing.

Usage: check_dist.py dist|deb|deb-arm64 BUILD_DIR SOURCE_DIR TOOL... [-- ALIAS...]
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

from checks import Checks, bpf_permitted, run

HERE = os.path.dirname(os.path.abspath(__file__))
# debian/rules builds with -Dtool_prefix=bpf-: libbpf-tools owns the bare names.
PREFIX = "bpf-"
# An event tool, and the tool the aliases (ext4slower, ...) run.
DIST_TOOLS = ["opensnoop", "fsslower"]


def make_tarball(c, build_dir, work, archive="xztar"):
    # --allow-dirty: a developer's uncommitted changes are not in the
    # tarball (meson dist archives HEAD), but need not stop the check.
    r = run(["meson", "dist", "-C", build_dir, "--no-tests", "--allow-dirty", "--formats", archive])
    suffix = {"xztar": ".tar.xz", "gztar": ".tar.gz"}[archive]
    tarballs = sorted(glob.glob(os.path.join(build_dir, "meson-dist", "corescope-*" + suffix)), key=os.path.getmtime)
    if not c.check(r.returncode == 0 and tarballs, "meson dist makes a tarball", r.stdout[-1500:] + r.stderr[-1500:]):
        return None
    tarball = tarballs[-1]
    with tarfile.open(tarball) as t:
        names = t.getnames()
        t.extractall(work)
    top = names[0].split("/")[0]
    c.check(any(n.endswith("vmlinux/x86/vmlinux.h") for n in names), "the tarball carries vmlinux.h")
    c.check(any(n.endswith("debian/rules") for n in names), "the tarball carries debian/")
    c.check(not any("/build/" in n or n.endswith(".o") for n in names), "the tarball has no build output")
    print(f"tarball: {os.path.basename(tarball)}, {os.path.getsize(tarball)} bytes")
    return os.path.join(work, top)


def check_dist(c, build_dir, source_dir, rest):
    work = tempfile.mkdtemp(prefix="corescope-dist-")
    try:
        tree = make_tarball(c, build_dir, work)
        if tree is None:
            return
        dist_build = os.path.join(work, "build")
        r = run(["meson", "setup", dist_build, tree, "--wrap-mode=nofallback", "-Dtests=false",
                 "-Dtool_prefix=bpf-", "-Dman=enabled", "-Dtools=" + ",".join(DIST_TOOLS),
                 "-Dstatic=true", "-Dmulticall=true", "-Doptimization=0", "-Ddebug=false"])
        if not c.check(r.returncode == 0, "the unpacked tarball configures with system packages only",
                       r.stdout[-2000:] + r.stderr[-2000:]):
            return
        r = run(["ninja", "-C", dist_build])
        if not c.check(r.returncode == 0, "the unpacked tarball builds", r.stdout[-3000:]):
            return
        # Only the aliases of the tools this build has (ALIAS=TOOL).
        aliases = [a for a in rest[rest.index("--") + 1:] if a.split("=")[-1] in DIST_TOOLS] \
            if "--" in rest else []
        r = run(["readelf", "--dynamic", os.path.join(dist_build, "corescope")])
        c.check("There is no dynamic section" in r.stdout, "the tarball's -Dstatic=true corescope has no dynamic section",
                r.stdout[-1000:])
        r = run([sys.executable, os.path.join(HERE, "check_install.py"), dist_build, tree, "bpf-", "true",
                 *DIST_TOOLS, "--", *aliases])
        add_nested(c, r, "the install checks of the tarball build ran")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def add_nested(c, r, what):
    lines = r.stdout.splitlines()
    print("\n".join(lines[:-1]))
    counts = re.fullmatch(r"(\d+) passed, (\d+) failed", lines[-1]) if lines else None
    if c.check(counts, what, r.stderr[-2000:]):
        c.passed += int(counts.group(1))
        c.failed += int(counts.group(2))


def packages_of_needed_libraries(deb, host_arch=None):
    """The packages that hold the shared libraries (DT_NEEDED) of every
    program in the package, by dpkg -S (host_arch's, for a cross build)."""
    root = tempfile.mkdtemp(prefix="corescope-debx-")
    try:
        run(["dpkg-deb", "-x", deb, root])
        sonames = set()
        for dirpath, _, files in os.walk(root):
            for f in files:
                path = os.path.join(dirpath, f)
                if os.path.islink(path):
                    continue
                with open(path, "rb") as elf:
                    if elf.read(4) != b"\x7fELF":
                        continue
                sonames |= set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                                          run(["readelf", "--dynamic", path]).stdout))
        arch = ["-a", host_arch] if host_arch else []
        multiarch = run(["dpkg-architecture", *arch, "-qDEB_HOST_MULTIARCH"]).stdout.strip()
        packages = set()
        for soname in sonames:
            owners = run(["dpkg", "-S", f"*/{multiarch}/{soname}"]).stdout
            packages |= {line.split(":")[0] for line in owners.splitlines() if line and "-dev" not in line.split(":")[0]}
        return sorted(packages)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def installed(package):
    r = run(["dpkg-query", "-W", "-f=${Status}", package])
    return "install ok installed" in r.stdout


def check_deb(c, build_dir, tools):
    if installed("corescope"):
        c.check(False, "corescope is not installed before the test", "remove it first: apt-get remove corescope")
        return
    work = tempfile.mkdtemp(prefix="corescope-deb-")
    try:
        tree = make_tarball(c, build_dir, work)
        if tree is None:
            return
        # noddebs: the debug-symbol package takes minutes to compress and is
        # not what this test checks.
        env = dict(os.environ, DEB_BUILD_OPTIONS="noddebs nocheck")
        r = run(["dpkg-buildpackage", "-b", "-us", "-uc"], cwd=tree, env=env)
        debs = glob.glob(os.path.join(work, "corescope_*.deb"))
        if not c.check(r.returncode == 0 and len(debs) == 1, "dpkg-buildpackage -b -us -uc builds corescope_*.deb",
                       r.stdout[-3000:] + r.stderr[-2000:]):
            return
        deb = debs[0]
        print(f"package: {os.path.basename(deb)}, {os.path.getsize(deb)} bytes")
        depends = run(["dpkg-deb", "-f", deb, "Depends"]).stdout.strip()
        print(f"Depends: {depends}")
        names = sorted(d.strip().split()[0] for d in depends.split(","))
        needed = packages_of_needed_libraries(deb)
        c.check(needed and names == needed, "Depends is exactly the packages of the libraries the programs link",
                f"Depends {' '.join(names)}; linked {' '.join(needed)}")
        contents = run(["dpkg-deb", "-c", deb]).stdout
        for path in ["./usr/sbin/corescope", "./usr/share/man/man8/corescope.8.gz",
                     "./usr/share/bash-completion/completions/corescope",
                     "./usr/share/zsh/vendor-completions/_corescope"] + \
                    [f"./usr/sbin/{PREFIX}{t}" for t in tools] + \
                    [f"./usr/share/man/man8/{PREFIX}{t}.8.gz" for t in tools]:
            c.check(path in contents, f"the package has {path}")
        # It must install next to libbpf-tools and bpfcc-tools: no file of it
        # belongs to an installed package.
        files = [line.split()[-1].lstrip(".") for line in contents.splitlines()
                 if line and line[0] != "d" and " -> " not in line]
        files += [line.split()[-3].lstrip(".") for line in contents.splitlines() if " -> " in line]
        owned = run(["dpkg", "-S", *files]).stdout.strip()
        c.check(not owned, "no file of the package belongs to an installed package", owned[:1000])
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        r = run(["apt-get", "install", "-y", "-o", "DPkg::Lock::Timeout=600", deb], env=env)
        if not c.check(r.returncode == 0, "apt-get install ./corescope_*.deb", r.stdout[-2000:] + r.stderr[-2000:]):
            return
        try:
            r = run(["/usr/sbin/corescope", "list"])
            c.check(r.returncode == 0 and all(t in r.stdout for t in tools), "/usr/sbin/corescope list", r.stderr)
            tool = "opensnoop" if "opensnoop" in tools else tools[0]
            if bpf_permitted():
                r = run([f"/usr/sbin/{PREFIX}{tool}", "--dry-run"])
                c.check(r.returncode == 0, f"/usr/sbin/{PREFIX}{tool} --dry-run", r.stderr)
                r = run(["/usr/sbin/corescope", tool, "--dry-run", "-o", "json"])
                c.check(r.returncode == 0 and r.stdout.startswith("{"), f"/usr/sbin/corescope {tool} --dry-run",
                        r.stderr)
            else:
                print(f"SKIPPED: /usr/sbin/{PREFIX}{tool} --dry-run: BPF not permitted here")
            r = run(["man", "-w", PREFIX + tool])
            c.check(r.returncode == 0 and r.stdout.strip().startswith("/usr/share/man/man8/"),
                    f"man -w {PREFIX}{tool}", r.stdout + r.stderr)
        finally:
            r = run(["apt-get", "remove", "-y", "-o", "DPkg::Lock::Timeout=600", "corescope"], env=env)
            c.check(r.returncode == 0 and not installed("corescope"), "apt-get remove corescope", r.stderr[-1000:])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_deb_arm64(c, build_dir, tools):
    missing = [p for p in ("aarch64-linux-gnu-g++", "aarch64-linux-gnu-pkg-config", "qemu-aarch64-static")
               if not shutil.which(p)]
    if missing:
        print(f"SKIPPED: no arm64 cross toolchain ({' '.join(missing)}): scripts/setup.sh --arm64 installs it")
        return
    work = tempfile.mkdtemp(prefix="corescope-deb-arm64-")
    try:
        tree = make_tarball(c, build_dir, work)
        if tree is None:
            return
        c.check(os.path.exists(os.path.join(tree, "vmlinux", "arm64", "vmlinux.h")),
                "the tarball carries vmlinux/arm64/vmlinux.h")
        env = dict(os.environ, DEB_BUILD_OPTIONS="noddebs nocheck")
        r = run(["dpkg-buildpackage", "-a", "arm64", "-Pcross", "-b", "-us", "-uc"], cwd=tree, env=env)
        debs = glob.glob(os.path.join(work, "corescope_*_arm64.deb"))
        if not c.check(r.returncode == 0 and len(debs) == 1,
                       "dpkg-buildpackage -a arm64 -Pcross -b -us -uc builds corescope_*_arm64.deb",
                       r.stdout[-3000:] + r.stderr[-2000:]):
            return
        deb = debs[0]
        print(f"package: {os.path.basename(deb)}, {os.path.getsize(deb)} bytes")
        c.check(run(["dpkg-deb", "-f", deb, "Architecture"]).stdout.strip() == "arm64", "Architecture: arm64")
        depends = run(["dpkg-deb", "-f", deb, "Depends"]).stdout.strip()
        print(f"Depends: {depends}")
        names = sorted(d.strip().split()[0] for d in depends.split(","))
        needed = packages_of_needed_libraries(deb, "arm64")
        c.check(needed and names == needed, "Depends is exactly the packages of the arm64 libraries the programs link",
                f"Depends {' '.join(names)}; linked {' '.join(needed)}")
        contents = run(["dpkg-deb", "-c", deb]).stdout
        for path in ["./usr/sbin/corescope", "./usr/share/man/man8/corescope.8.gz",
                     "./usr/share/bash-completion/completions/corescope",
                     "./usr/share/zsh/vendor-completions/_corescope"] + \
                    [f"./usr/sbin/{PREFIX}{t}" for t in tools]:
            c.check(path in contents, f"the package has {path}")
        root = os.path.join(work, "root")
        run(["dpkg-deb", "-x", deb, root])
        corescope = os.path.join(root, "usr", "sbin", "corescope")
        header = run(["readelf", "-h", corescope]).stdout
        c.check("AArch64" in header, "usr/sbin/corescope is an AArch64 program", header[-500:])
        # The arm64 libraries it links are the multiarch ones installed here.
        r = run(["qemu-aarch64-static", corescope, "list"])
        c.check(r.returncode == 0 and all(t in r.stdout for t in tools),
                "usr/sbin/corescope list (under qemu-aarch64-static)", r.stderr[-1000:])
        completion = os.path.join(root, "usr", "share", "bash-completion", "completions", "corescope")
        text = open(completion).read() if os.path.exists(completion) else ""
        c.check("--pid" in text, "the bash completion (written by the arm64 corescope under qemu) offers --pid")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    mode, build_dir, source_dir = sys.argv[1:4]
    rest = sys.argv[4:]
    tools = rest[:rest.index("--")] if "--" in rest else rest
    c = Checks(mode)
    if mode == "dist":
        check_dist(c, build_dir, source_dir, rest)
    elif mode == "deb-arm64":
        check_deb_arm64(c, build_dir, tools)
    else:
        check_deb(c, build_dir, tools)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
