#!/usr/bin/env python3
"""The browser suite: corescope's pages in a real (headless) Chromium.

The flame graph: `corescope flamegraph` draws tests/browser/profile.folded
(folded stacks of a real `profile -F 199 -d 3 --perf-max-stack-depth 20 -f`
run of a cgroup where find, gzip and a process spinning in
profile_busy_loop_xyz ran); Chromium loads the SVG; the page must make no
request but for the file, log no error, and show something (a screenshot
of more than a few colours); text typed into the page's own search box
highlights the spinning function's frames (read back from the DOM, with the
matched share the page prints); a click on a frame zooms to it.

One Chromium for every page. Exit 77 (skipped) without chromium, unless
CORESCOPE_NO_SKIP=1 (scripts/test.sh), which makes that a failure.

usage: test_pages.py BUILD_DIR [--keep-screenshot PNG]
"""

import os
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from browser import Browser, BrowserError, find_chromium  # noqa: E402

failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def flame_graph(browser, build, keep):
    corescope = os.path.join(build, "corescope")
    folded = os.path.join(here, "profile.folded")
    with tempfile.TemporaryDirectory(prefix="corescope-browser-") as tmp:
        svg = os.path.join(tmp, "cpu.svg")
        with open(svg, "wb") as out:
            subprocess.run([corescope, "flamegraph", "--title", "profile.folded", folded],
                           stdout=out, check=True)
        page = browser.load(svg)
        check(page.requests[:1] == [page.url], "the SVG loaded: %s" % page.requests[:1])
        check(not page.foreign_requests, "no request but the file: %s" % page.foreign_requests)
        check(not page.console_errors, "no console error: %s" % page.console_errors)
        check(page.colours > 20, "the screenshot is not blank (%d colours)" % page.colours)
        frames = browser.evaluate("document.querySelectorAll('g.f').length")
        check(frames > 10, "%d frames drawn" % frames)

        # Typed into the page's own search box, as a user would.
        browser.evaluate("document.getElementById('search').focus()")
        browser.type_text("busy_loop")
        matched = browser.evaluate(
            "Array.from(document.querySelectorAll('g.match'))"
            ".map(g => [g.querySelector('title').textContent,"
            " g.querySelector('rect').getAttribute('fill')])")
        check(len(matched) > 0, "the search highlights %d frames" % len(matched))
        check(all("profile_busy_loop_xyz" in t for t, _ in matched),
              "every highlighted frame is the spinning function's: %s" % [t for t, _ in matched])
        check(all(fill == "rgb(230,0,230)" for _, fill in matched),
              "highlighted in the search colour")
        if keep:
            size = browser.evaluate("[document.documentElement.width.baseVal.value,"
                                    " document.documentElement.height.baseVal.value]")
            with open(keep, "wb") as f:
                f.write(browser.screenshot((0, 0, size[0], size[1])))
        share = browser.evaluate("document.getElementById('matched').textContent")
        check(share.startswith("Matched: ") and float(share[9:].rstrip("%")) > 10,
              "the matched share is shown: %r" % share)

        # A click on the spinning function's frame zooms to it: it then
        # spans the whole width, its siblings hidden.
        box = browser.evaluate(
            "(() => { const g = document.querySelector('g.match');"
            " const r = g.querySelector('rect').getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        browser.click(box[0], box[1])
        width = browser.evaluate(
            "+document.querySelector('g.match rect').getAttribute('width')")
        hidden = browser.evaluate("document.querySelectorAll('g.f.hide').length")
        check(abs(width - 1180) < 1, "the clicked frame spans the width (%.2f)" % width)
        check(hidden > 0, "%d frames outside it hidden" % hidden)
        page = browser.check_page()
        check(not page.foreign_requests and not page.console_errors,
              "no request and no error after the search and the click")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    build = sys.argv[1]
    keep = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--keep-screenshot" else None
    if not find_chromium():
        print("no chromium: scripts/setup.sh installs Debian's chromium")
        return 1 if os.environ.get("CORESCOPE_NO_SKIP") == "1" else 77
    start = time.monotonic()
    try:
        with Browser() as browser:
            flame_graph(browser, build, keep)
    except BrowserError as e:
        failures.append(str(e))
        print("FAIL", e)
    print("%.1f s" % (time.monotonic() - start))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
