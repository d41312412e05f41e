#!/usr/bin/env python3
"""Installs a configured build into a temporary DESTDIR and checks what a
user or a distribution gets: the tools and corescope in sbindir (with the
tool prefix), a man page per tool and for corescope in section 8 that
renders without warnings and has every required section, bash and zsh
completions that know each tool's flags, the docs; then runs corescope and a
tool from the DESTDIR.

Usage: check_install.py BUILD_DIR SOURCE_DIR PREFIX MULTICALL TOOL... [-- ALIAS...]

Ends with one "N passed, N failed" line (scripts/summarize_tests.py counts it).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from checks import Checks, bpf_permitted

REQUIRED_SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "OUTPUT", "EXAMPLES", "OVERHEAD"]


def meson_dirs(build_dir):
    out = subprocess.run(["meson", "introspect", "--buildoptions", build_dir], capture_output=True,
                         text=True, check=True).stdout
    options = {o["name"]: o["value"] for o in json.loads(out)}
    prefix = options["prefix"]

    def under(name):
        value = options[name]
        return value if os.path.isabs(value) else os.path.join(prefix, value)

    bash_dir = under("bash_completion_dir") if options["bash_completion_dir"] else os.path.join(
        under("datadir"), "bash-completion", "completions")
    zsh_dir = under("zsh_completion_dir") if options["zsh_completion_dir"] else os.path.join(
        under("datadir"), "zsh", "site-functions")
    return {"sbin": under("sbindir"), "man8": os.path.join(under("mandir"), "man8"),
            "doc": os.path.join(under("datadir"), "doc", "corescope"), "bash": bash_dir, "zsh": zsh_dir}


def list_options(corescope, command):
    out = subprocess.run([corescope, command, "--list-options"], capture_output=True, text=True)
    return [line.split("\t") for line in out.stdout.splitlines()]


def sections_of(markdown):
    return re.findall(r"^# ([A-Z][A-Z ]+)$", markdown, re.M)


def bash_complete(bash_file, words):
    """The words bash offers for the last of `words` (COMP_WORDS)."""
    script = (f"source {bash_file}\n"
              f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
              "compopt() { :; }\n"  # only valid inside a real completion
              "_corescope; printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True).stdout.split()


def main():
    build_dir, source_dir, prefix, multicall = sys.argv[1:5]
    rest = sys.argv[5:]
    tools = rest[:rest.index("--")] if "--" in rest else rest
    # ALIAS=TOOL: an alias and the tool it runs.
    aliases = [a.split("=")[0] for a in rest[rest.index("--") + 1:]] if "--" in rest else []
    multicall = multicall == "true"
    c = Checks("install" + (f" (prefix {prefix})" if prefix else "") + (" (multi-call)" if multicall else ""))
    destdir = tempfile.mkdtemp(prefix="corescope-destdir-")
    try:
        result = subprocess.run(["meson", "install", "-C", build_dir, "--no-rebuild", "--quiet", "--destdir", destdir],
                                capture_output=True, text=True)
        if not c.check(result.returncode == 0, "meson install into DESTDIR", result.stderr[-2000:]):
            return c.finish()
        dirs = {k: destdir + v for k, v in meson_dirs(build_dir).items()}
        sbin = dirs["sbin"]
        corescope = os.path.join(sbin, "corescope")

        # Executables: corescope, every tool and alias under its prefixed name.
        c.check(os.access(corescope, os.X_OK) and not os.path.islink(corescope), "sbin/corescope is an executable")
        for name in tools + aliases:
            path = os.path.join(sbin, prefix + name)
            c.check(os.access(path, os.X_OK), f"sbin/{prefix}{name} is installed and executable")
            if prefix:
                c.check(not os.path.lexists(os.path.join(sbin, name)), f"no unprefixed sbin/{name}")
            if multicall and name in tools:
                c.check(os.path.islink(path) and os.readlink(path) == "corescope", f"sbin/{prefix}{name} -> corescope")
        unexpected = sorted(set(os.listdir(sbin)) - {"corescope"} - {prefix + n for n in tools + aliases})
        c.check(not unexpected, "nothing else in sbindir", " ".join(unexpected))

        # corescope export's systemd unit, running the installed corescope.
        units = [os.path.join(d, f) for d, _, files in os.walk(destdir) for f in files
                 if f == "corescope-export.service"]
        if c.check(len(units) == 1 and "/systemd/system/" in units[0], "corescope-export.service installed",
                   " ".join(units)):
            with open(units[0], encoding="utf-8") as f:
                unit = f.read()
            exec_start = re.search(r"^ExecStart=(\S+) export$", unit, re.M)
            c.check(exec_start and destdir + exec_start.group(1) == corescope,
                    "corescope-export.service runs sbin/corescope export", exec_start.group(0) if exec_start else "")

        # Man pages: sources complete, pages installed, rendering clean.
        # The front end's own pages, and the command whose flags each documents.
        front_pages = {"corescope": None, "corescope-export": "export",
                       "corescope-flamegraph": "flamegraph"}
        for page in list(front_pages) + tools:
            source = os.path.join(source_dir, "docs", "man", page + ".8.md")
            if not c.check(os.path.exists(source), f"docs/man/{page}.8.md exists"):
                continue
            with open(source, encoding="utf-8") as f:
                markdown = f.read()
            missing = [s for s in REQUIRED_SECTIONS if s not in sections_of(markdown)]
            c.check(not missing, f"{page}.8.md has every required section", "missing: " + " ".join(missing))
            command = front_pages.get(page, page)
            if command:
                # Markdown escapes a flag's dashes (**\-\-pid**); compare without.
                options_part = markdown.split("\n# OPTIONS", 1)[-1].split("\n# OUTPUT", 1)[0].replace("\\-", "-")
                undocumented = [o[1] for o in list_options(corescope, command)
                                if o[1] not in ("--help", "--version") and o[1] not in options_part]
                c.check(not undocumented, f"{page}.8 OPTIONS documents every flag", " ".join(undocumented))
        for page in list(front_pages) + [prefix + t for t in tools] + [prefix + a for a in aliases]:
            path = os.path.join(dirs["man8"], page + ".8")
            if not c.check(os.path.exists(path), f"man8/{page}.8 installed"):
                continue
            env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80", MANROFFSEQ="")
            r = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", path],
                               capture_output=True, text=True, env=env)
            c.check(r.returncode == 0 and not r.stderr.strip(), f"man -l {page}.8 renders without warnings",
                    r.stderr.strip()[:500])
            text = subprocess.run(["man", "-l", path], capture_output=True, text=True, env=env).stdout
            name_line = re.search(r"^NAME\n\s+(\S+)", text, re.M)
            expected = page if page in list(front_pages) + [prefix + t for t in tools] else None
            if expected:
                c.check(name_line and name_line.group(1) == expected, f"{page}.8 NAME says {expected}",
                        name_line.group(1) if name_line else "no NAME")

        # Completions.
        bash_file = os.path.join(dirs["bash"], "corescope")
        if c.check(os.path.exists(bash_file), "bash completion installed"):
            for name in tools + aliases:
                c.check(os.path.exists(os.path.join(dirs["bash"], prefix + name)),
                        f"bash completion found under {prefix}{name}")
            c.check("opensnoop" in bash_complete(bash_file, ["corescope", "opens"]),
                    "bash: corescope completes tool names")
            for tool in tools:
                flags = [o[1] for o in list_options(corescope, tool)]
                offered = bash_complete(bash_file, [prefix + tool, "--"])
                c.check(flags and set(flags) <= set(offered), f"bash: {prefix}{tool} -- offers every flag",
                        " ".join(sorted(set(flags) - set(offered))))
                offered = bash_complete(bash_file, ["corescope", tool, "--"])
                c.check(set(flags) <= set(offered), f"bash: corescope {tool} -- offers every flag")
                # The values -o's help names ("output format: text, json or
                # svg"): svg for the stack tools, prometheus for the counters.
                formats = ["text", "json"]
                for o in list_options(corescope, tool):
                    if o[1] == "--output" and o[-1].startswith("output format: "):
                        named = o[-1][len("output format: "):].replace(" or ", ", ").split(", ")
                        formats = [n for n in named if n.isalnum()]
                c.check(bash_complete(bash_file, [prefix + tool, "-o", ""]) == formats,
                        f"bash: {prefix}{tool} -o offers {' '.join(formats)}")
        zsh_file = os.path.join(dirs["zsh"], "_corescope")
        if c.check(os.path.exists(zsh_file), "zsh completion installed"):
            with open(zsh_file, encoding="utf-8") as f:
                zsh = f.read()
            compdef = zsh.splitlines()[0].split()
            c.check(compdef[0] == "#compdef" and set(["corescope"] + [prefix + n for n in tools + aliases]) <= set(compdef),
                    "zsh: #compdef names corescope and every tool")
            for tool in tools:
                body = zsh.split(f"_corescope_{tool}() {{", 1)[-1].split("\n}", 1)[0]
                flags = [o[1] for o in list_options(corescope, tool)]
                missing = [f for f in flags if f"'{f}" not in body and f"'*{f}" not in body]
                c.check(not missing, f"zsh: {tool} knows every flag", " ".join(missing))
            if shutil.which("zsh"):
                r = subprocess.run(["zsh", "-n", zsh_file], capture_output=True, text=True)
                c.check(r.returncode == 0, "zsh -n: the completion parses", r.stderr[:500])

        c.check(os.path.exists(os.path.join(dirs["doc"], "README.md")), "docs installed")

        # The installed programs run.
        r = subprocess.run([corescope, "list", "-o", "json"], capture_output=True, text=True)
        listed = re.findall(r'"tool":"([^"]+)"', r.stdout)
        c.check(r.returncode == 0 and listed == tools, "installed corescope list names every tool", r.stderr)
        tool = "opensnoop" if "opensnoop" in tools else tools[0]
        r = subprocess.run([os.path.join(sbin, prefix + tool), "--help"], capture_output=True, text=True)
        c.check(r.returncode == 0 and "Usage:" in r.stdout, f"installed {prefix}{tool} --help")
        if bpf_permitted():
            r = subprocess.run([os.path.join(sbin, prefix + tool), "--dry-run"], capture_output=True, text=True)
            c.check(r.returncode == 0, f"installed {prefix}{tool} --dry-run", r.stderr)
        else:
            print(f"SKIPPED: {prefix}{tool} --dry-run: BPF not permitted here")
        if "fsslower" in tools and "ext4slower" in aliases:
            r = subprocess.run([os.path.join(sbin, prefix + "ext4slower"), "--help"], capture_output=True, text=True)
            c.check(r.returncode == 0 and "ext4" in r.stdout, f"{prefix}ext4slower is fsslower for ext4", r.stdout[:300])
        if "fsdist" in tools and "ext4dist" in aliases:
            r = subprocess.run([os.path.join(sbin, prefix + "ext4dist"), "--help"], capture_output=True, text=True)
            c.check(r.returncode == 0 and "on ext4 file systems" in r.stdout, f"{prefix}ext4dist is fsdist for ext4", r.stdout[:300])
    finally:
        shutil.rmtree(destdir, ignore_errors=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
