#!/usr/bin/env python3
"""Prints one closing line for meson test runs (their testlog.json files), "N passed, N failed,
N skipped", counting the Catch2 test cases of every suite (from meson's
testlog.json), and exits 1 if any failed.

A case skipped with SKIP_CASE (tests/common/skip.h) is a skip, not a pass:
Catch2 counts it as passed, and the "skipped: N test cases" line after its
summary says how many to move. An expected failure ([!mayfail]) is a
failure. A suite that reports no cases of its own counts as one: passed,
failed, or skipped (exit 77).

Where a case failed, its failed assertions are printed again before the
closing line: a long log is cut to its last lines (meson test, CI), and
the failure would otherwise be out of sight."""
import json
import re
import sys


def catch2_counts(stdout):
    """(passed, failed, skipped) from a Catch2 binary's output, or None."""
    skipped = 0
    m = re.search(r"^skipped: (\d+) test cases?$", stdout, re.M)
    if m:
        skipped = int(m.group(1))
    m = re.search(r"All tests passed \(\d+ assertions? in (\d+) test cases?\)", stdout)
    if m:
        return int(m.group(1)) - skipped, 0, skipped
    m = re.search(r"^test cases:[^\n]*$", stdout, re.M)
    if not m:
        return None
    line = m.group(0)
    passed = sum(int(n) for n in re.findall(r"(\d+) passed", line))
    failed = sum(int(n) for n in re.findall(r"(\d+) failed(?! as expected)", line))
    failed += sum(int(n) for n in re.findall(r"(\d+) failed as expected", line))
    return passed - skipped, failed, skipped


SEPARATOR = re.compile(r"^(-{79}|={79})$")
ASSERTION = re.compile(r"^\S.*:\d+: ")
DURATION = re.compile(r"^\d+\.\d{3} s: ")  # --durations yes
FAILURE = re.compile(r"^\S.*:\d+: FAILED:|^\S.*:\d+: failed: |due to unexpected exception")


def failed_assertions(stdout, most_lines=30):
    """The failed assertions of a Catch2 console log, each under its test
    case's name: [(case, text)]."""
    lines = stdout.splitlines()
    failures = []
    case = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        # A case's header: a dashed line, its name (and sections), a
        # dashed line.
        if SEPARATOR.match(line) and line.startswith("-"):
            j = i + 1
            while j < len(lines) and not SEPARATOR.match(lines[j]):
                j += 1
            case = " / ".join(l.strip() for l in lines[i + 1 : j])
            i = j + 1
            continue
        if FAILURE.search(line):
            j = i + 1
            while (
                j < len(lines)
                and not ASSERTION.match(lines[j])
                and not SEPARATOR.match(lines[j])
                and not DURATION.match(lines[j])
            ):
                j += 1
            text = lines[i:j]
            if len(text) > most_lines:
                text = text[:most_lines] + [f"  ... ({len(text) - most_lines} more lines)"]
            failures.append((case, "\n".join(text).rstrip()))
            i = j
            continue
        i += 1
    return failures


passed = failed = skipped = 0
failures = []
lines = []
for path in sys.argv[1:]:  # one testlog.json per meson test run
    with open(path, encoding="utf-8") as log:
        lines += log.readlines()
for line in lines:
    test = json.loads(line)
    stdout = test.get("stdout") or ""
    counts = catch2_counts(stdout)
    if test.get("result") not in ("OK", "SKIP"):
        failures += [(test.get("name", "?"),) + f for f in failed_assertions(stdout)]
    if counts is None:
        # The kernel-matrix guests: each its own closing line, prefixed
        # with its kernel ("[6.12] 420 passed, 0 failed") when two ran.
        m = re.findall(r"^(?:\[[0-9.]+\] )?(\d+) passed, (\d+) failed$", stdout, re.M)
        if m:
            counts = (sum(int(p) for p, _ in m), sum(int(f) for _, f in m), 0)
    if counts is not None:
        passed += counts[0]
        failed += counts[1]
        skipped += counts[2]
        # A binary that reported its cases but still failed (a crash
        # after its summary, a skip under CORESCOPE_NO_SKIP=1).
        if counts[1] == 0 and test.get("result") not in ("OK", "SKIP"):
            failed += 1
        continue
    if test.get("result") == "SKIP":
        skipped += 1
    elif test.get("result") == "OK":
        passed += 1
    else:
        failed += 1
if failures:
    print("\nFailed assertions (from the logs above):")
    for suite, case, text in failures:
        print(f"\n[{suite}] {case}\n{text}")
    print()
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
