"""The built documentation site, opened in a real headless browser.

Run by ``nox -s docs`` after ``mkdocs build --strict`` (the workspace session leaves this
folder out). The site under ``site/`` (``REQIVO_SITE_DIR`` to point elsewhere) is served
by the standard library's HTTP server on loopback, in a thread, and Debian's Chromium
(installed by ``scripts/ci-services.sh``; ``REQIVO_CHROMIUM`` to use another) is driven
by Playwright through ``executable_path``: Playwright's own browser download is never
used. Without Chromium or Playwright the tests skip with a message, or fail when
``REQIVO_TEST_SERVICES=require``.

The landing page's screenshot is saved to ``reports/docs/landing.png``.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("REQIVO_SITE_DIR", ROOT / "site"))
SCREENSHOT = ROOT / "reports" / "docs" / "landing.png"
TIMEOUT_MS = 15_000
SEARCH_ATTEMPTS = 4


def _unavailable(reason: str) -> None:
    """Skip, or fail when REQIVO_TEST_SERVICES=require (CI that must not skip silently)."""
    if os.environ.get("REQIVO_TEST_SERVICES") == "require":
        pytest.fail(f"{reason} (REQIVO_TEST_SERVICES=require)")
    pytest.skip(f"{reason}: run scripts/ci-services.sh (with REQIVO_TEST_SERVICES=require: fail)")


def _chromium() -> str | None:
    given = os.environ.get("REQIVO_CHROMIUM")
    if given:
        return given if os.access(given, os.X_OK) else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _h1(page: Page) -> str:
    """The page's title heading, without the permalink sign the toc extension adds."""
    return page.locator("article h1").first.inner_text().replace("\u00b6", "").strip()


@pytest.fixture(scope="module")
def site_url() -> Iterator[str]:
    """The built site, served over loopback for the module's tests."""
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site in {SITE}: run `nox -s docs` (or `mkdocs build`) first")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="docs-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    executable = _chromium()
    if executable is None:
        _unavailable("chromium is not installed (nor REQIVO_CHROMIUM an executable)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (the docs dependency group)")
    assert executable is not None
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            # Containers (CI runs as root) have no user namespaces for Chromium's sandbox.
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page; any JavaScript error on it fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield opened
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def test_landing_page_renders(page: Page, site_url: str) -> None:
    page.goto(site_url)
    assert page.title() == "Reqivo"
    assert _h1(page) == "Reqivo"
    # The table that says which package to install renders as a table.
    assert page.locator("article table").first.locator("code", has_text="reqivo-async").count()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=False)
    assert SCREENSHOT.stat().st_size > 10_000


def test_guide_page_renders(page: Page, site_url: str) -> None:
    page.goto(site_url + "quickstart/async/")
    assert _h1(page) == "Quickstart: async"
    # Code blocks are highlighted (Pygments spans), not plain text.
    assert page.locator("article .highlight code span").count() > 10
    assert "- Reqivo" in page.title()
    page.goto(site_url + "guides/requests-responses/")
    assert _h1(page)
    # The page is the active entry of the navigation.
    active = page.locator("nav.md-nav--primary .md-nav__link--active").first
    assert active.inner_text().strip() == "Requests and responses"


def test_api_page_renders(page: Page, site_url: str) -> None:
    page.goto(site_url + "reference/async/")
    assert _h1(page) == "reqivo_async"
    session = page.locator("[id='reqivo_async.AsyncSession']")
    assert session.count() == 1
    assert "AsyncSession" in session.inner_text()
    # Its methods come from the docstrings, with their own anchors.
    assert page.locator("[id='reqivo_async.AsyncSession.get']").count() == 1
    assert page.locator("[id='reqivo_async.Response.raise_for_status']").count() == 1


def test_navigation_reaches_a_page(page: Page, site_url: str) -> None:
    page.goto(site_url)
    link = page.locator("nav.md-nav--primary a.md-nav__link", has_text="Security").first
    link.click()
    page.wait_for_url(re.compile(r".*/security/$"))
    assert _h1(page) == "Security behaviour"


def test_search_finds_a_page(page: Page, site_url: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page.goto(site_url)
    page.locator("label.md-search__icon, .md-search__input").first.click()
    search = page.locator("input.md-search__input")
    results = page.locator(".md-search-result__item")
    # The index is built by a web worker after the page loads (seconds on a busy machine);
    # a query typed before it is ready may find nothing, so type it again until it is.
    for _ in range(SEARCH_ATTEMPTS):
        search.fill("")
        search.type("decompression")
        try:
            results.first.wait_for(state="visible", timeout=TIMEOUT_MS)
            break
        except PlaywrightTimeoutError:
            continue
    assert results.count() > 0
    assert "ecompression" in page.locator(".md-search-result__list").inner_text()
