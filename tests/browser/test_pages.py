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

triage's report: the checked-in sample page (tests/golden/triage-html) and a
real `corescope triage -d 1 -o html`: no request, no console error, not
blank, the findings first, no element that runs or fetches anything, a
hostile name shown as text, the charts drawn and none wider than a phone.

usage: test_pages.py BUILD_DIR [--keep-screenshot PNG [TRIAGE_PNG]]
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


def triage_pages(browser, build, keep_html):
    """triage's HTML report: the checked-in sample (every section filled,
    hostile names in it), and a real run's page."""
    sample = os.path.join(here, "..", "golden", "triage-html", "sample.html")
    page = browser.load(os.path.abspath(sample))
    check(not page.foreign_requests, "the sample report: no request but the file: %s"
          % page.foreign_requests)
    check(not page.console_errors, "the sample report: no console error: %s" % page.console_errors)
    check(page.colours > 20, "the sample report is not blank (%d colours)" % page.colours)
    # The findings first; a hostile process name shown as text, never run.
    first = browser.evaluate("document.querySelector('h2').textContent")
    check(first.startswith("Findings"), "the findings come first: %r" % first)
    scripts = browser.evaluate(
        "document.querySelectorAll('script:not([type=\"application/json\"]), img, iframe,"
        " object, embed, link').length")
    check(scripts == 0, "no script, image, frame or link element: %d" % scripts)
    text = browser.evaluate("document.body.textContent")
    check("<script" in text, "a hostile name is shown as text")
    charts = browser.evaluate("document.querySelectorAll('svg rect').length")
    check(charts > 20, "the charts and bars are drawn (%d rectangles)" % charts)
    # At phone width nothing is wider than the screen.
    overflow = browser.evaluate(
        "(() => { document.body.style.width = '390px';"
        " const w = Array.from(document.querySelectorAll('svg'))"
        ".map(s => s.getBoundingClientRect().width); document.body.style.width = '';"
        " return Math.max(...w); })()")
    check(overflow <= 390, "at 390 px the widest chart is %.0f px" % overflow)

    # A real run's page, as an engineer would attach it to an incident.
    with tempfile.TemporaryDirectory(prefix="corescope-browser-") as tmp:
        html = os.path.join(tmp, "report.html")
        with open(html, "wb") as out:
            subprocess.run([os.path.join(build, "corescope"), "triage", "-d", "1", "-o", "html"],
                           stdout=out, check=True)
        page = browser.load(html)
        check(not page.foreign_requests and not page.console_errors,
              "a real triage page: no request, no console error: %s %s"
              % (page.foreign_requests, page.console_errors))
        check(page.colours > 10, "a real triage page is not blank (%d colours)" % page.colours)
        cpus = browser.evaluate("document.querySelectorAll('#cpu-bars rect').length")
        check(cpus >= os.cpu_count(), "a real triage page has its CPU bars (%d rects)" % cpus)
        if keep_html:
            with open(keep_html, "wb") as f:
                f.write(page.screenshot)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    build = sys.argv[1]
    keep = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--keep-screenshot" else None
    keep_html = sys.argv[4] if len(sys.argv) > 4 else None
    if not find_chromium():
        print("no chromium: scripts/setup.sh installs Debian's chromium")
        return 1 if os.environ.get("CORESCOPE_NO_SKIP") == "1" else 77
    start = time.monotonic()
    try:
        with Browser() as browser:
            flame_graph(browser, build, keep)
            triage_pages(browser, build, keep_html)
    except BrowserError as e:
        failures.append(str(e))
        print("FAIL", e)
    print("%.1f s" % (time.monotonic() - start))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
