"""Drive Debian's headless Chromium through Selenium and Debian's chromium-driver: load pages, click, run axe-core.

No browser or driver is ever downloaded: the tests use the system's `chromium` and `chromedriver` (packages
chromium and chromium-driver, the same version; `.ci/run` installs and upgrades both), and Selenium Manager is
never asked for one. Every host name but 127.0.0.1 resolves to nothing, so a page cannot reach the internet (map
tiles stay grey).
"""
from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
NET_ERROR = "document.body !== null && document.body.classList.contains('neterror')"
AXE_DIR = Path(__file__).parent / "axe"
INSTALL = "install them with `apt-get install chromium chromium-driver` (.ci/run does this)"


class BrowserMissing(RuntimeError):
    """No Chromium or ChromeDriver to run the browser tests with."""


class PageFailed(RuntimeError):
    """Chromium could not load a page, or it did not get where the test waited for in time."""


def _find(env: str, candidates: tuple[str, ...], name: str) -> str:
    for path in (os.environ.get(env), *candidates, shutil.which(name)):
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path
    raise BrowserMissing(f"{name} not found (looked at ${env}, {', '.join(candidates)}, PATH): {INSTALL}; "
                         "the browser tests cannot run without it")


def find_chromium() -> str:
    """Return the Chromium executable, or raise BrowserMissing saying how to install it."""
    return _find("LBM_CHROMIUM", CHROMIUM, "chromium")


def find_chromedriver() -> str:
    """Return Debian's ChromeDriver, or raise BrowserMissing saying how to install it."""
    return _find("LBM_CHROMEDRIVER", CHROMEDRIVER, "chromedriver")


def axe_source() -> str:
    """Return axe-core's script, installing it from the npm registry (package-lock pinned) on first use."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.is_file():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(AXE_DIR)], check=True,
                       capture_output=True, timeout=300)
    return script.read_text(encoding="utf-8")


class Browser:
    """One headless Chromium under ChromeDriver; pages load within `timeout` seconds or raise PageFailed."""

    def __init__(self, timeout: float = 30.0, size: tuple[int, int] = (1280, 1600)):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="lbm-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = find_chromium()
        for flag in (*FLAGS, f"--user-data-dir={self.profile}", f"--window-size={size[0]},{size[1]}"):
            options.add_argument(flag)
        service = Service(executable_path=find_chromedriver(), log_output=subprocess.DEVNULL)
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(timeout)
        self.driver.set_script_timeout(timeout)

    def goto(self, url: str, until: str | None = None) -> None:
        """Load url (a page that cannot load, or loads too slowly, is a PageFailed), then wait for `until`."""
        try:
            self.driver.get(url)
        except TimeoutException as e:
            raise PageFailed(f"Chromium did not load {url} within {self.timeout:.0f} s") from e
        except WebDriverException as e:
            raise PageFailed(f"Chromium could not load {url}: {e.msg}") from e
        # Chromium shows its own error page for a refused or failed load (no exception from the driver).
        if self.driver.current_url.startswith("chrome-error://") or self.js(NET_ERROR):
            raise PageFailed(f"Chromium could not load {url}: {self.js('document.title')} shows a network error")
        self.wait_for(until or "true")

    def js(self, expression: str, awaiting: bool = False):
        """Return the value of a JavaScript expression (awaited if it is a promise)."""
        if awaiting:
            return self.driver.execute_async_script(
                f"const done = arguments[arguments.length - 1]; Promise.resolve({expression}).then(done);")
        return self.driver.execute_script(f"return ({expression});")

    def wait_for(self, expression: str):
        """Wait until the page is loaded and expression is truthy (e.g. the next page's heading)."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            value = self.js(f"document.readyState === 'complete' && !!({expression})")
            if value:
                return value
            time.sleep(0.05)
        raise PageFailed(f"{expression!r} was not true within {self.timeout:.0f} s on {self.driver.current_url}")

    def click(self, selector: str) -> None:
        self.driver.find_element("css selector", selector).click()

    def fill(self, selector: str, value: str) -> None:
        field = self.driver.find_element("css selector", selector)
        field.clear()
        field.send_keys(value)

    def phone(self, width: int = 390, height: int = 844) -> None:
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})

    def dom(self) -> str:
        return self.driver.page_source

    def screenshot(self, path: Path) -> Path:
        """Save the whole page, not only the window, as a PNG."""
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot",
                                           {"format": "png", "captureBeyondViewport": True})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def axe(self) -> list[dict]:
        """Run axe-core on the page; return the serious and critical violations (id, impact, nodes)."""
        self.driver.execute_script(axe_source())
        found = self.js("axe.run(document).then(r => r.violations.map(v => ({id: v.id, impact: v.impact, "
                        "nodes: v.nodes.map(n => n.target.join(' '))})))", awaiting=True)
        return [v for v in found if v["impact"] in ("serious", "critical")]

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            # Chromium's helpers can still be writing into the profile for a moment after it exits.
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclass
class Page:
    url: str
    dom: str
    screenshot: Path | None


def render_all(pages: dict[str, str | tuple[str, str]], artefacts: Path, timeout: float = 30.0) -> dict[str, Page]:
    """Load each {name: url or (url, wait-for expression)} in one browser; screenshots go to artefacts/<name>.png.

    Headless Chromium now and then never finishes a page (once in some hundreds of loads): a page that runs out of
    time is loaded once more in a new browser, saying so. A second failure is an error."""
    rendered: dict[str, Page] = {}
    browser = Browser(timeout=timeout)
    try:
        for name, spec in pages.items():
            url, until = (spec, None) if isinstance(spec, str) else spec
            try:
                browser.goto(url, until)
            except PageFailed as e:
                print(f"{e}: loading it again in a new browser")
                browser.close()
                browser = Browser(timeout=timeout)
                browser.goto(url, until)
            rendered[name] = Page(url, browser.dom(), browser.screenshot(artefacts / f"{name}.png"))
    finally:
        browser.close()
    return rendered
