"""Drive Debian's headless Chromium over the DevTools protocol: navigate, fill and submit forms, run axe-core.

tests/browser.py only loads a page and dumps its DOM; a person subscribing clicks buttons, so these tests talk to
the same Chromium through its remote-debugging WebSocket (websocket-client). No browser is downloaded.
"""
from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket

from tests.browser import FLAGS, find_chromium

AXE_DIR = Path(__file__).parent / "axe"


def axe_source() -> str:
    """Return axe-core's script, installing it from the npm registry (package-lock pinned) on first use."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.is_file():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(AXE_DIR)], check=True,
                       capture_output=True, timeout=300)
    return script.read_text(encoding="utf-8")


class Browser:
    def __init__(self, timeout: float = 60.0):
        self.timeout = timeout
        self.profile = tempfile.TemporaryDirectory(prefix="lbm-cdp-", ignore_cleanup_errors=True)
        self.process = subprocess.Popen([find_chromium(), *FLAGS, f"--user-data-dir={self.profile.name}",
                                         "--remote-debugging-port=0", "about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile.name) / "DevToolsActivePort"
        port = self._until(lambda: port_file.is_file() and port_file.read_text().split("\n")[0])
        targets = self._until(lambda: self._pages(port))
        self.ws = websocket.create_connection(targets[0]["webSocketDebuggerUrl"], timeout=timeout)
        self.ids = itertools.count(1)
        self.call("Page.enable")

    def _pages(self, port: str):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                return [t for t in json.load(r) if t["type"] == "page"]
        except OSError:
            return None

    def _until(self, probe, what: str = "Chromium"):
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            value = probe()
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"{what} did not get there within {self.timeout:.0f} s")

    def call(self, method: str, **params) -> dict:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def js(self, expression: str, awaiting: bool = False):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=awaiting)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str):
        """Wait until the page is loaded and expression is truthy (e.g. the next page's heading)."""
        return self._until(lambda: self.js(f"document.readyState === 'complete' && !!({expression})"), expression)

    def goto(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_for(f"location.href === {json.dumps(url)}")

    def phone(self, width: int = 390, height: int = 844) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=True)

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def axe(self) -> list[dict]:
        """Run axe-core on the page; return the serious and critical violations (id, impact, nodes)."""
        self.js(axe_source())
        found = self.js("axe.run(document).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, "
                        "impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))))", awaiting=True)
        return [v for v in json.loads(found) if v["impact"] in ("serious", "critical")]

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            self.process.wait(timeout=15)
            # Chromium's helper processes can still be writing into the profile for a moment after the browser
            # exits ("Directory not empty" once in a full run): try again briefly, then leave what remains.
            for _ in range(20):
                try:
                    shutil.rmtree(self.profile.name)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)
            self.profile.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
