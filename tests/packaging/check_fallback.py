#!/usr/bin/env python3
"""The wrap fallbacks in subprojects/: a dist tarball that carries the package
cache builds libbpf, zlib, Catch2 and nlohmann_json from it, offline, and the
tools it builds work.

  1. Fills subprojects/packagecache/ from the archive the wraps name when a
     tarball is missing (scripts/fill_packagecache.py); skips (exit 77) when
     the archive is unreachable and the cache is incomplete.
  2. `meson dist`: the tarball carries every wrap, overlay and cached source
     tarball, and nothing Meson extracted.
  3. Configures the unpacked tarball with --force-fallback-for (the honest way
     to make the installed packages "missing" on a machine that has them) in
     a network namespace with no network, and builds execsnoop, opensnoop and
     the unit tests there.
  4. The tools link libbpf and zlib statically (no libbpf.so or libz.so
     needed), execsnoop --dry-run loads its programs, opensnoop reports an
     open this test makes, and the unit tests (Catch2 and nlohmann_json from
     the wraps) pass.

Usage: check_fallback.py BUILD_DIR SOURCE_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from checks import Checks, bpf_permitted, run
from check_dist import make_tarball

SKIP = 77
FALLBACKS = ["libbpf", "zlib", "catch2", "nlohmann_json"]
TARGETS = ["execsnoop", "opensnoop", "tests/unit/unit_tests"]


def offline(argv):
    """argv in a network namespace of its own (loopback only, down): proof
    that nothing is downloaded. Only root can make one; others run as is."""
    if os.geteuid() == 0:
        return ["unshare", "--net", "--", *argv]
    return argv


def fill_cache(source_dir):
    """Returns None when every wrap's tarball is in the cache, else why not."""
    r = run([sys.executable, os.path.join(source_dir, "scripts", "fill_packagecache.py")])
    print(r.stdout, end="")
    if r.returncode == 3:
        first = (r.stderr.strip().splitlines() or [""])[0]
        return f"the archive is unreachable and the package cache is incomplete ({first})"
    if r.returncode != 0:
        raise RuntimeError(f"fill_packagecache.py failed: {r.stderr.strip()}")
    return None


def wrap_sources(source_dir):
    sys.path.insert(0, os.path.join(source_dir, "scripts"))
    import wraps
    return wraps, wraps.sources(os.path.join(source_dir, "subprojects"))


def check_tarball(c, tree, source_dir):
    wraps, sources = wrap_sources(source_dir)
    cache = os.path.join(tree, "subprojects", "packagecache")
    for source in sources:
        c.check(os.path.exists(os.path.join(tree, "subprojects", source.wrap)), f"the tarball has subprojects/{source.wrap}")
        c.check(wraps.cached(cache, source), f"the tarball's package cache has {source.filename} with the wrap's sha256")
    for overlay in ["libbpf/meson.build", "libbpf/public/bpf/meson.build", "zlib/meson.build", "catch2/meson.build"]:
        c.check(os.path.exists(os.path.join(tree, "subprojects", "packagefiles", overlay)),
                f"the tarball has subprojects/packagefiles/{overlay}")
    extracted = [d for d in os.listdir(os.path.join(tree, "subprojects"))
                 if os.path.isdir(os.path.join(tree, "subprojects", d)) and d not in ("packagecache", "packagefiles")]
    c.check(not extracted, "the tarball has no extracted subproject", " ".join(extracted))


def check_linkage(c, build):
    for tool in ["execsnoop", "opensnoop"]:
        path = os.path.join(build, tool)
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", run(["readelf", "--dynamic", path]).stdout)
        print(f"{tool} needs: {' '.join(needed)}")
        c.check(needed and not any(n.startswith(("libbpf.so", "libz.so")) for n in needed),
                f"{tool} needs no libbpf.so or libz.so", " ".join(needed))
        # Not even through another library (libelf brings the system's libz.so).
        r = run(["ldd", path])
        c.check(r.returncode == 0 and "libbpf.so" not in r.stdout, f"ldd {tool} shows no libbpf.so", r.stdout)
        # Defined in the binary, not imported: the wrap's libbpf is linked in.
        symbols = run(["nm", "--defined-only", path]).stdout
        c.check(re.search(r" T bpf_object__open_skeleton$", symbols, re.M) and re.search(r" T gzopen$", symbols, re.M),
                f"{tool} has libbpf's bpf_object__open_skeleton and zlib's gzopen linked in")


def check_opensnoop_sees_open(c, opensnoop):
    """opensnoop filtered to this process reports the missing paths it opens."""
    token = f"/tmp/corescope-fallback-{os.getpid()}-{time.monotonic_ns()}"
    tool = subprocess.Popen([opensnoop, "-o", "json", "-p", str(os.getpid())], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(tool.stdout), daemon=True)
    reader.start()
    # Until the tool is attached the opens go unseen: keep opening new
    # paths until one shows up (or 20 s pass).
    opened = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and tool.poll() is None:
        path = f"{token}-{len(opened)}"
        opened.append(path)
        try:
            open(path).close()
        except FileNotFoundError:
            pass
        time.sleep(0.1)
        if any(token in line for line in list(lines)):
            break
    tool.send_signal(signal.SIGINT)
    try:
        _, err = tool.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        tool.kill()
        _, err = tool.communicate()
    reader.join(timeout=5)
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    seen = [e for e in events if e.get("path", "").startswith(token)]
    c.check(tool.returncode == 0, "opensnoop exits 0 on SIGINT", err[-1000:])
    c.check(seen and all(e["pid"] == os.getpid() and e["fd"] == -1 and e["errno"] == 2 for e in seen)
            and all(e["path"] in opened for e in seen),
            "opensnoop reports this test's opens of missing paths (pid, fd -1, ENOENT)",
            f"{len(opened)} opened, {len(seen)} seen; {err[-500:]}")


def check_fallback_build(c, tree, work):
    build = os.path.join(work, "build")
    started = time.monotonic()
    # Only the tools it runs: the point is the fallbacks, and the unit tests
    # would otherwise compile every tool's decoder once more.
    r = run(offline(["meson", "setup", build, tree, "--force-fallback-for=" + ",".join(FALLBACKS),
                     "-Dman=disabled", "-Dtools=execsnoop,opensnoop"]))
    if not c.check(r.returncode == 0, "the unpacked tarball configures offline with every fallback forced",
                   r.stdout[-2500:] + r.stderr[-2000:]):
        return
    for name in FALLBACKS:
        c.check(re.search(rf"Using {name} source from cache", r.stdout),
                f"the {name} fallback is built from the tarball's package cache")
    info = json.loads(run(["meson", "introspect", "--projectinfo", build]).stdout)
    used = {p["name"]: p["version"] for p in info.get("subprojects", [])}
    print(f"subprojects: {used}")
    c.check(used.get("libbpf") == "1.1.2" and used.get("zlib") == "1.2.13" and "catch2" in used
            and "nlohmann_json" in used, "the build uses the libbpf, zlib, catch2 and nlohmann_json subprojects",
            str(used))
    r = run(offline(["ninja", "-C", build, *TARGETS]))
    if not c.check(r.returncode == 0, f"{' '.join(TARGETS)} build offline against the fallbacks", r.stdout[-3000:]):
        return
    print(f"fallback configure and build: {time.monotonic() - started:.0f} s")

    check_linkage(c, build)
    r = run([os.path.join(build, "tests", "unit", "unit_tests")])
    c.check(r.returncode == 0, "the unit tests (Catch2 and nlohmann_json from the wraps) pass",
            r.stdout[-1500:] + r.stderr[-500:])
    if not bpf_permitted():
        print("SKIPPED: execsnoop --dry-run and opensnoop's trace: BPF not permitted here")
        return
    r = run([os.path.join(build, "execsnoop"), "--dry-run"])
    c.check(r.returncode == 0 and "attach plan" in r.stdout,
            "execsnoop --dry-run loads and verifies its programs with the wrap's libbpf", r.stderr[-1000:])
    check_opensnoop_sees_open(c, os.path.join(build, "opensnoop"))


def main():
    build_dir, source_dir = sys.argv[1:3]
    c = Checks("fallback")
    try:
        why = fill_cache(source_dir)
    except RuntimeError as e:
        c.check(False, "the package cache fills from the archive", str(e))
        return c.finish()
    if why:
        print(f"SKIPPED: {why}; fill subprojects/packagecache/ (subprojects/README.md)")
        return SKIP
    work = tempfile.mkdtemp(prefix="corescope-fallback-")
    try:
        # gzip: xz spends its time recompressing the cached tarballs.
        tree = make_tarball(c, build_dir, work, archive="gztar")
        if tree is None:
            return c.finish()
        check_tarball(c, tree, source_dir)
        check_fallback_build(c, tree, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
