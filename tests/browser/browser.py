"""A headless Chromium driven over the DevTools protocol, for the pages
corescope writes (flame graphs, the triage report): Python 3's standard
library only.

Chromium (Debian's `chromium`, which scripts/setup.sh installs) is started
with --remote-debugging-pipe: it reads the protocol's JSON messages from fd
3 and writes its own to fd 4, each ended by a NUL byte, so no port is
opened. One browser serves every page a test loads:

    with Browser() as browser:
        page = browser.load("/tmp/cpu.svg")
        page.requests          # every URL the page asked for (the file itself first)
        page.foreign_requests  # those that were not the file: must be empty
        page.console_errors    # console errors, exceptions and error log entries
        page.colours           # distinct colours in the screenshot (1: blank)
        page.screenshot        # the PNG's bytes
        browser.evaluate("document.title")
        browser.type_text("busy")          # as typed into the focused element
        browser.click(x, y)

Nothing is left behind: the browser runs in a process group of its own,
which close() (or the end of the `with`) ends, and its profile is a
temporary directory that goes with it.
"""

import base64
import json
import os
import pathlib
import select
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import zlib


class BrowserError(Exception):
    pass


def find_chromium():
    """The Chromium executable, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Page:
    def __init__(self, url):
        self.url = url
        self.requests = []
        self.console_errors = []
        self.screenshot = b""
        self.colours = 0

    @property
    def foreign_requests(self):
        return [u for u in self.requests if u != self.url]


def png_colours(png, limit=4096):
    """Distinct colours in an 8-bit RGB or RGBA PNG (counting stops at
    limit): the PNG decoded here, with zlib, filters and all."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise BrowserError("the screenshot is not a PNG")
    at, idat, width, height, channels = 8, b"", 0, 0, 0
    while at < len(png):
        length, kind = struct.unpack(">I4s", png[at:at + 8])
        data = png[at + 8:at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", data)
            if depth != 8 or colour_type not in (2, 6) or interlace:
                raise BrowserError("an unexpected PNG layout")
            channels = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            idat += data
        at += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    colours = set()
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        row = bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(channels, stride):
                row[i] = (row[i] + row[i - channels]) & 0xFF
        elif kind == 2:
            row = bytearray((a + b) & 0xFF for a, b in zip(row, previous))
        elif kind == 3:
            for i in range(stride):
                left = row[i - channels] if i >= channels else 0
                row[i] = (row[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = row[i - channels] if i >= channels else 0
                b = previous[i]
                c = previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                row[i] = (row[i] + pred) & 0xFF
        elif kind != 0:
            raise BrowserError("a bad PNG filter")
        if len(colours) < limit:
            for x in range(0, stride, channels * 2):  # every other pixel is plenty
                colours.add(bytes(row[x:x + 3]))
        previous = row
    return len(colours)


class Browser:
    def __init__(self, width=1280, height=800, timeout=20):
        chromium = find_chromium()
        if not chromium:
            raise BrowserError("no chromium (scripts/setup.sh installs Debian's chromium)")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="corescope-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def child_fds():
            # fds 3 and 4, whatever numbers the pipes got.
            r = os.dup(to_browser_r)
            w = os.dup(from_browser_w)
            r = _move_above(r, 4)
            w = _move_above(w, 4)
            os.dup2(r, 3)
            os.dup2(w, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        args = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                "--remote-debugging-pipe", "--user-data-dir=" + self.profile,
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--mute-audio",
                "--hide-scrollbars", "--allow-file-access-from-files",
                "--window-size=%d,%d" % (width, height), "about:blank"]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        preexec_fn=child_fds, close_fds=False,
                                        start_new_session=True)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self._events = []
        self.session = None
        self.width, self.height = width, height
        try:
            target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self.call("Target.attachToTarget",
                                     {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Network", "Runtime", "Log"):
                self.call(domain + ".enable")
            self.call("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1,
                       "mobile": False})
        except BaseException:
            self.close()
            raise

    # The protocol.

    def _send(self, message):
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._to_browser, data):]

    def _receive(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise BrowserError("chromium closed its pipe")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=True):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        self._send(message)
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == message["id"]:
                if "error" in reply:
                    raise BrowserError("%s: %s" % (method, reply["error"]))
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def _wait_event(self, method, deadline):
        while True:
            for i, event in enumerate(self._events):
                if event["method"] == method:
                    return self._events.pop(i)
            self._events.append(self._receive(deadline))

    # Pages.

    def load(self, path):
        """Loads a file, waits for its load event, and returns a Page with
        the requests it made, its console errors and a screenshot."""
        url = pathlib.Path(path).resolve().as_uri()
        page = Page(url)
        self._events.clear()
        self.call("Page.navigate", {"url": url})
        deadline = time.monotonic() + self.timeout
        self._wait_event("Page.loadEventFired", deadline)
        # What arrived meanwhile, and a round trip for the rest.
        self.evaluate("1")
        self._collect(page)
        page.screenshot = self.screenshot()
        page.colours = png_colours(page.screenshot)
        self.page = page
        return page

    def screenshot(self, clip=None):
        """A PNG of the page as it is now; clip: (x, y, width, height) of it."""
        params = {"format": "png"}
        if clip:
            params["captureBeyondViewport"] = True
            params["clip"] = dict(zip(("x", "y", "width", "height"), clip), scale=1)
        return base64.b64decode(self.call("Page.captureScreenshot", params)["data"])

    def _collect(self, page):
        for event in self._events:
            method, params = event["method"], event.get("params", {})
            if method == "Network.requestWillBeSent":
                page.requests.append(params["request"]["url"])
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                page.console_errors.append(
                    details.get("exception", {}).get("description") or details.get("text", ""))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                page.console_errors.append(
                    " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                page.console_errors.append(params["entry"].get("text", ""))
        self._events.clear()

    def check_page(self):
        """Requests and errors since load() (a click or a search may make
        some): added to the Page load() returned."""
        self.evaluate("1")
        self._collect(self.page)
        return self.page

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (JSON-able)."""
        result = self.call("Runtime.evaluate",
                           {"expression": expression, "returnByValue": True,
                            "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError("evaluate(%r): %s" % (
                expression, result["exceptionDetails"].get("exception", {}).get(
                    "description", result["exceptionDetails"].get("text"))))
        return result["result"].get("value")

    def type_text(self, text):
        """Types text into the focused element, as a keyboard would."""
        self.call("Input.insertText", {"text": text})

    def click(self, x, y):
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent",
                      {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    # The end.

    def close(self):
        if self.process.poll() is None:
            try:
                self.session = None
                self._next_id += 1
                self._send({"id": self._next_id, "method": "Browser.close"})
                self.process.wait(timeout=5)
            except Exception:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # its helpers, if any remain
        except ProcessLookupError:
            pass
        if self.process.poll() is None:
            self.process.wait()
        # Until the group is gone: no chromium outlives the test.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _move_above(fd, floor):
    while fd <= floor:
        fd = os.dup(fd)
    return fd
