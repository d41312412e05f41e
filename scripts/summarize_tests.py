#!/usr/bin/env python3
"""Prints one closing line for a meson test run: the Catch2 test cases
passed and failed across every suite, from meson's testlog.json."""
import json
import re
import sys

passed = failed = 0
with open(sys.argv[1], encoding="utf-8") as log:
    for line in log:
        test = json.loads(line)
        stdout = test.get("stdout") or ""
        # Catch2: "test cases: 19 | 18 passed | 1 failed" or "All tests passed (N assertions in M test cases)"
        m = re.search(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed( as expected)?", stdout)
        if m:
            passed += int(m.group(2))
            if m.group(4):
                passed += int(m.group(3))  # [!mayfail] cases that failed, as marked
            else:
                failed += int(m.group(3))
            continue
        # The kernel-matrix guest: its own closing line.
        m = re.findall(r"^(\d+) passed, (\d+) failed$", stdout, re.M)
        if m:
            passed += int(m[-1][0])
            failed += int(m[-1][1])
            continue
        m = re.search(r"All tests passed \(\d+ assertions? in (\d+) test cases?\)", stdout)
        if m:
            passed += int(m.group(1))
            continue
        # A suite that did not report (crashed, timed out) counts as one
        # failure; one that skipped (exit 77, said why) counts as neither.
        if test.get("result") == "SKIP":
            continue
        if test.get("result") == "OK":
            passed += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed")
