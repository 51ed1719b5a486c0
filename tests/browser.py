"""Open a local HTML file in headless Chromium over the DevTools protocol (the
``--remote-debugging-pipe`` transport: JSON messages on file descriptors 3 and 4, no
network port, no extra package) and report what a reader would see: console messages,
exceptions, every network request, and a PNG screenshot of the whole page."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = next((p for p in (shutil.which("chromium"), "/usr/bin/chromium") if p and
                 Path(p).exists()), None)

_ERR = subprocess.DEVNULL
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio",
         "--hide-scrollbars", "--remote-debugging-pipe"]


@dataclass
class PageLook:
    console: list = field(default_factory=list)      # (level, text)
    exceptions: list = field(default_factory=list)
    requests: list = field(default_factory=list)     # URLs the page asked for
    failed: list = field(default_factory=list)       # (url, error)
    csp_violations: list = field(default_factory=list)
    screenshot: bytes = b""
    title: str = ""
    dom: str = ""
    width: int = 0
    height: int = 0


class _Pipe:
    def __init__(self, proc, rfd: int, wfd: int):
        self.proc, self.rfd, self.wfd = proc, rfd, wfd
        self.buf = b""
        self.next_id = 0
        self.events: list = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.wfd, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def _read(self, deadline: float) -> dict:
        import select

        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self.rfd], [], [], left)
            if ready:
                chunk = os.read(self.rfd, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self.buf += chunk
        raw, _, self.buf = self.buf.partition(b"\0")
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 60) -> dict:
        wanted = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read(deadline)
            if msg.get("id") == wanted:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        for i, e in enumerate(self.events):
            if e["method"] == method:
                return self.events.pop(i)
        while True:
            msg = self._read(deadline)
            if msg.get("method") == method:
                return msg
            if "method" in msg:
                self.events.append(msg)


def look(path: str | Path, *, width: int = 1200, timeout: float = 90) -> PageLook:
    """Load ``path`` in headless Chromium and return what happened."""
    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed")
    url = Path(path).resolve().as_uri()
    profile = tempfile.mkdtemp(prefix="lawkit-chromium-")
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    # a small launcher puts our pipe ends on fds 3 and 4 and execs Chromium (no preexec_fn:
    # no fork of this process, which holds JAX's threads)
    wire = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
            "os.execv(sys.argv[3], sys.argv[3:])")
    proc = subprocess.Popen([sys.executable, "-c", wire, str(to_child_r), str(from_child_w),
                             CHROMIUM, *FLAGS, f"--user-data-dir={profile}",
                             f"--window-size={width},900", "about:blank"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=_ERR, pass_fds=(to_child_r, from_child_w))
    os.close(to_child_r)
    os.close(from_child_w)
    pipe = _Pipe(proc, from_child_r, to_child_w)
    out = PageLook()
    try:
        target = pipe.call("Target.createTarget", {"url": "about:blank"}, timeout=timeout)
        session = pipe.call("Target.attachToTarget", {"targetId": target["targetId"],
                                                      "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            pipe.call(f"{domain}.enable", session=session)
        pipe.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900,
                                                         "deviceScaleFactor": 1,
                                                         "mobile": False}, session=session)
        pipe.events.clear()
        pipe.call("Page.navigate", {"url": url}, session=session)
        pipe.wait_event("Page.loadEventFired", timeout=timeout)
        time.sleep(0.3)  # let late console messages arrive
        metrics = pipe.call("Page.getLayoutMetrics", session=session)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        out.width, out.height = int(size["width"]), int(size["height"])
        shot = pipe.call("Page.captureScreenshot",
                         {"format": "png", "captureBeyondViewport": True,
                          "clip": {"x": 0, "y": 0, "width": out.width,
                                   "height": min(out.height, 16000), "scale": 1}},
                         session=session, timeout=timeout)
        out.screenshot = base64.b64decode(shot["data"])
        res = pipe.call("Runtime.evaluate", {"expression": "document.documentElement.outerHTML",
                                             "returnByValue": True}, session=session)
        out.dom = res["result"]["value"]
        res = pipe.call("Runtime.evaluate", {"expression": "document.title",
                                             "returnByValue": True}, session=session)
        out.title = res["result"]["value"]
        for e in pipe.events:
            m, p = e["method"], e.get("params", {})
            if m == "Runtime.consoleAPICalled":
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
                out.console.append((p["type"], text))
            elif m == "Runtime.exceptionThrown":
                out.exceptions.append(p["exceptionDetails"].get("text", ""))
            elif m == "Log.entryAdded":
                entry = p["entry"]
                out.console.append((entry["level"], entry["text"]))
                if "Content Security Policy" in entry["text"]:
                    out.csp_violations.append(entry["text"])
            elif m == "Network.requestWillBeSent":
                out.requests.append(p["request"]["url"])
            elif m == "Network.loadingFailed":
                out.failed.append((p.get("requestId"), p.get("errorText")))
        try:
            pipe.call("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError):
            pass
    finally:
        for fd in (from_child_r, to_child_w):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        shutil.rmtree(profile, ignore_errors=True)
    return out


def ink(png: bytes) -> tuple[int, int, int]:
    """(non-white pixels, colourful pixels, total) of a PNG screenshot."""
    import io

    import numpy as np
    from matplotlib.image import imread

    img = imread(io.BytesIO(png), format="png")[..., :3]
    dark = (img < 0.94).any(axis=-1)
    colour = (img.max(axis=-1) - img.min(axis=-1)) > 0.25
    return int(dark.sum()), int(colour.sum()), int(dark.size)
