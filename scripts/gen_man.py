#!/usr/bin/env python3
"""Builds one man page from its markdown source with pandoc.

Usage: gen_man.py PANDOC SOURCE OUTPUT PREFIX TOOL...

SOURCE is docs/man/NAME.8.md. With a PREFIX (-Dtool_prefix=bpf-), every
tool name in it that names a command (the title, the NAME line, **TOOL** in
bold, TOOL(8) references) becomes PREFIX + TOOL, so the installed page
describes the command the user has; TOOL... are the names to rewrite.
"""
import re
import subprocess
import sys


def prefixed(text, prefix, tools):
    if not prefix:
        return text
    names = "|".join(re.escape(t) for t in sorted(tools, key=len, reverse=True))
    # "% OPENSNOOP(8) corescope | ..." (the title block)
    text = re.sub(r"^% (" + names.upper() + r")\(", lambda m: "% " + prefix.upper() + m.group(1) + "(",
                  text, flags=re.M)
    # "opensnoop - trace ..." (the NAME line)
    text = re.sub(r"^(" + names + r") - ", lambda m: prefix + m.group(1) + " - ", text, flags=re.M)
    # **opensnoop** and **opensnoop -x** (commands), opensnoop(8) (references)
    text = re.sub(r"\*\*(" + names + r")(?=\*\*| )", lambda m: "**" + prefix + m.group(1), text)
    text = re.sub(r"(?<![\w-])(" + names + r")\(8\)", lambda m: prefix + m.group(1) + "(8)", text)
    return text


def main():
    pandoc, source, output, prefix, tools = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
    with open(source, encoding="utf-8") as f:
        text = prefixed(f.read(), prefix, tools)
    result = subprocess.run([pandoc, "--standalone", "--from", "markdown-smart", "--to", "man", "-o", output],
                            input=text, text=True, capture_output=True)
    if result.returncode != 0 or result.stderr.strip():
        sys.exit(f"gen_man.py: pandoc failed on {source}: {result.stderr.strip()}")


if __name__ == "__main__":
    main()
