"""Headless Chromium driven through the Chrome DevTools protocol over a pipe (no websocket, no download, no
network): open a page from the file system, collect console errors, failed loads and images that did not
load, take a screenshot.

Chromium started with `--remote-debugging-pipe` reads protocol messages (JSON, each ended by a NUL byte)
from its file descriptor 3 and writes replies and events to 4. `python -m tests.browser PAGE OUT.png [--width W]`
screenshots one page (how docs/report.png was taken).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--mute-audio",
         "--remote-debugging-pipe")
"""The network is closed where the tests run: nothing may try to reach it."""
CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")


def find_chromium() -> str | None:
    """Debian's `chromium` (or $AVTBENCH_CHROMIUM), or None where it is not installed."""
    for name in (os.environ.get("AVTBENCH_CHROMIUM"), *CANDIDATES):
        if name and (shutil.which(name) or (Path(name).is_file() and os.access(name, os.X_OK))):
            return shutil.which(name) or name
    return None


@dataclass
class PageVisit:
    url: str
    problems: list[str] = field(default_factory=list)
    """Console errors, uncaught exceptions, failed loads and images that did not load, one line each."""
    images: int = 0
    """<img> elements on the page (all loaded, unless `problems` says otherwise)."""
    table_entries: int = 0
    """Entries of the report's main table (`table.main span.entry`) on the page."""


def _as_fds_3_and_4(read_end: int, write_end: int) -> None:
    """In the child: the pipe ends as the descriptors 3 and 4 Chromium reads and writes, kept across exec
    (moved out of the way first, since the pipes may have been given 3 or 4 themselves)."""
    import fcntl

    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (read_end, write_end)]
    for fd, wanted in zip(high, (3, 4)):
        os.dup2(fd, wanted, inheritable=True)


class Chromium:
    """One headless Chromium process and one page (tab) in it."""

    def __init__(self, executable: str, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="avtbench-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=lambda: _as_fds_3_and_4(to_browser_r, from_browser_w))
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        target = next(t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=target["targetId"], flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=True)

    def call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its reply; events met meanwhile are kept in `events`."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _read(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("chromium stopped answering on its debugging pipe")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed its debugging pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _wait_for(self, method: str) -> None:
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._read())

    def visit(self, url: str, width: int = 1400) -> PageVisit:
        """Load `url` and wait for its load event (images included); what went wrong, and what it shows."""
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=900, deviceScaleFactor=1,
                  mobile=False)
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        self._wait_for("Page.loadEventFired")
        visit = PageVisit(url)
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                visit.problems.append(f"console {params['type']}: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                visit.problems.append(f"exception: {params.get('exceptionDetails', {}).get('text')}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                visit.problems.append(f"log error: {entry.get('text')} {entry.get('url', '')}".strip())
            elif method == "Network.loadingFailed":
                visit.problems.append(f"failed load: {params.get('errorText')} ({params.get('type')})")
        broken = self.evaluate("Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
                               ".map(i => i.getAttribute('src'))")
        visit.problems += [f"image not loaded: {src}" for src in broken]
        visit.images = self.evaluate("document.images.length")
        visit.table_entries = self.evaluate("document.querySelectorAll('table.main span.entry').length")
        return visit

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def screenshot(self, out: Path, width: int = 1400, max_height: int = 4000) -> Path:
        """The whole page (up to `max_height` CSS pixels tall) as a PNG."""
        height = min(int(self.evaluate("document.documentElement.scrollHeight")), max_height)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height, deviceScaleFactor=1,
                  mobile=False)
        import base64

        data = self.call("Page.captureScreenshot", session=True, format="png")["data"]
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(data))
        return out

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._to_browser, self._from_browser):
            os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Screenshot one page in headless Chromium; print what went wrong.")
    parser.add_argument("page", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=1400, help="viewport width in CSS pixels")
    parser.add_argument("--max-height", type=int, default=4000, help="the screenshot's height at most")
    args = parser.parse_args()
    executable = find_chromium()
    if executable is None:
        sys.exit("no chromium found: apt-get install chromium (or set AVTBENCH_CHROMIUM)")
    with Chromium(executable) as browser:
        seen = browser.visit(args.page.resolve().as_uri(), width=args.width)
        print("\n".join(seen.problems) or f"{seen.images} image(s) loaded, {seen.table_entries} table entries")
        print(f"wrote {browser.screenshot(args.out, width=args.width, max_height=args.max_height)}")
        sys.exit(1 if seen.problems else 0)


if __name__ == "__main__":
    main()
