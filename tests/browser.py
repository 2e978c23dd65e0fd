"""Drive Debian's headless Chromium: load a page, let its JavaScript run, return the DOM and save a screenshot.

No browser is ever downloaded: the tests use the system's Chromium (`.ci/run` installs it where missing).
Every host name but 127.0.0.1 resolves to nothing, so a page cannot reach the internet (map tiles stay grey).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


class BrowserMissing(RuntimeError):
    """No Chromium to run the browser tests with."""


def find_chromium() -> str:
    """Return the Chromium executable, or raise BrowserMissing saying how to install it."""
    for path in (os.environ.get("LBM_CHROMIUM"), *CANDIDATES, shutil.which("chromium")):
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path
    raise BrowserMissing("Chromium not found (looked at $LBM_CHROMIUM, /usr/bin/chromium, PATH): "
                         "install it with `apt-get install chromium` (.ci/run does this); "
                         "the browser tests cannot run without it")


@dataclass
class Page:
    url: str
    dom: str
    screenshot: Path | None


def render(url: str, screenshot: Path | None = None, size: str = "1280,1600", js_budget_ms: int = 5000,
           timeout: float = 60.0) -> Page:
    """Load url in a fresh headless Chromium, run its scripts for js_budget_ms, return the DOM (and screenshot).

    Headless Chromium now and then never finishes a page (once in some hundreds of loads, any page: a full run of
    the tests lost the module to one): a browser that runs out of time is killed and the page loaded once more in a
    new one. A second timeout is an error."""
    try:
        return _render(url, screenshot, size, js_budget_ms, timeout)
    except subprocess.TimeoutExpired as e:
        print(f"Chromium took over {timeout} s on {url}: loading it again in a new browser ({e.cmd[0]})")
        return _render(url, screenshot, size, js_budget_ms, timeout)


def _render(url: str, screenshot: Path | None, size: str, js_budget_ms: int, timeout: float) -> Page:
    chromium = find_chromium()
    # A killed browser's helpers may still be writing to its profile as it is removed: what is left is left.
    with tempfile.TemporaryDirectory(prefix="lbm-chromium-", ignore_cleanup_errors=True) as profile:
        argv = [chromium, *FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={js_budget_ms}",
                f"--window-size={size}", "--dump-dom"]
        if screenshot:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            argv.append(f"--screenshot={screenshot}")
        result = subprocess.run([*argv, url], capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"Chromium failed on {url} (exit {result.returncode}): {result.stderr[-500:]}")
    if screenshot and not screenshot.is_file():
        raise RuntimeError(f"Chromium wrote no screenshot for {url}")
    return Page(url, result.stdout, screenshot)


def render_all(pages: dict[str, str], artefacts: Path) -> dict[str, Page]:
    """Render each {name: url} at once, each with its own browser; screenshots go to artefacts/<name>.png."""
    find_chromium()
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(render, url, artefacts / f"{name}.png") for name, url in pages.items()}
        return {name: f.result() for name, f in futures.items()}
