"""Real-browser test fixtures: Playwright driving Debian's chromium against live_server.

One browser per test session (Playwright's sync API allows one running loop per thread).
Never `playwright install`: the browser is the system's /usr/bin/chromium, which
`make test` installs from Debian's packages."""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
HTMX = Path(__file__).resolve().parents[1] / "desk" / "static" / "desk" / "vendor" / "htmx.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real chromium through Playwright (needs /usr/bin/chromium)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(pytest.mark.skip(reason="chromium is not installed: apt-get install -y chromium"))


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are ordinary blocking calls, so Django's async-safety guard does not apply.
    # Set only while the browser runs, so subprocesses of other tests never inherit it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    if not HTMX.exists():
        pytest.fail("htmx is not installed for the desk: run `make desk-assets` (npm ci + copy)")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    # Every browser test is also a check of the Content-Security-Policy: chromium reports each
    # refused script, style or connection on the console, and one is a page that broke.
    refused = []
    page.on("console", lambda message: refused.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert not refused, "the page broke the Content-Security-Policy:\n" + "\n".join(refused)


@pytest.fixture
def screenshot(page):
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name):
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
