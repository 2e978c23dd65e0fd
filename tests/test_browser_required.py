"""The browser tests cannot pass without a browser: a missing Chromium is an error saying how to install it."""
from __future__ import annotations

import pytest

from tests import browser


def test_missing_chromium_is_an_error_not_a_skip(monkeypatch, tmp_path):
    monkeypatch.setattr(browser, "CHROMIUM", (str(tmp_path / "no-chromium"),))
    monkeypatch.setenv("LBM_CHROMIUM", str(tmp_path / "nor-here"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(browser.BrowserMissing, match="apt-get install chromium chromium-driver"):
        browser.Browser()
    with pytest.raises(browser.BrowserMissing):
        browser.render_all({"home": "http://127.0.0.1:9/"}, tmp_path)


def test_missing_chromedriver_is_an_error_not_a_skip(monkeypatch, tmp_path):
    monkeypatch.setattr(browser, "CHROMEDRIVER", (str(tmp_path / "no-driver"),))
    monkeypatch.setenv("LBM_CHROMEDRIVER", str(tmp_path / "nor-here"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(browser.BrowserMissing, match="chromedriver not found"):
        browser.Browser()


def test_browser_tests_never_skip():
    # A skip would let the suite pass on a machine without Chromium; the page tests must fail there instead.
    from pathlib import Path
    for name in ("test_datasette_browser.py", "test_web_browser.py", "browser.py"):
        source = (Path(__file__).parent / name).read_text(encoding="utf-8")
        assert "skip" not in source and "importorskip" not in source, name
