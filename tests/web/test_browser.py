"""The pages in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Set-up: `bash scripts/setup-browser.sh` installs chromium and chromium-driver.
Screenshots of the list and story pages go to docs/screenshots/.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="browser tests need /usr/bin/chromium: run `bash scripts/setup-browser.sh`",
    ),
    pytest.mark.slow,
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db: str) -> Iterator[str]:
    """uvicorn on a free loopback port, in a thread, for the duration of the fixture."""
    import uvicorn

    from storyline.interfaces.api import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(db=db), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def server_url(sample_db: str) -> Iterator[str]:
    """The samples and a hostile article."""
    yield from _serve(sample_db)


@pytest.fixture(scope="module")
def samples_url(samples_only_db: str) -> Iterator[str]:
    """The sample articles alone (what the README screenshots show)."""
    yield from _serve(samples_only_db)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        yield b
        b.close()


class PageErrors:
    """Dialogs and script errors seen by a page: hostile content must cause none."""

    def __init__(self, page: Any) -> None:
        self.dialogs: list[str] = []
        self.csp_violations: list[str] = []
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: self.csp_violations.append(m.text)
                if "Content Security Policy" in m.text else None)


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def _sample_story(server_url: str) -> dict[str, Any]:
    import httpx

    rows = httpx.get(f"{server_url}/api/v1/stories").json()["stories"]
    row = next(r for r in rows if {"DW", "Euractiv"} <= set(r["outlets"]))
    return httpx.get(f"{server_url}/api/v1/stories/{row['id']}").json()


def test_story_list_story_article_and_search(samples_url: str, page: Any) -> None:
    server_url = samples_url
    story = _sample_story(server_url)
    errors = PageErrors(page)
    page.goto(server_url + "/")
    link = page.get_by_role("link", name=story["title"])
    playwright_api.expect(link).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "stories.png"), full_page=True)

    link.click()
    page.wait_for_url(f"**/stories/{story['id']}")
    head = page.locator(".story-head")
    playwright_api.expect(head.locator(".badge", has_text="DW")).to_be_visible()
    playwright_api.expect(head.locator(".badge", has_text="Euractiv")).to_be_visible()
    playwright_api.expect(page.locator("svg.coverage-chart")).to_be_visible()
    if story.get("timeline") is not None:
        timeline = page.locator(".timeline")
        for day in ("10 January 2022", "12 January 2022", "13 January 2022"):
            playwright_api.expect(timeline.get_by_text(day).first).to_be_visible()
    if story.get("quotes") is not None:
        playwright_api.expect(
            page.get_by_text("The United States looks forward to engaging with Russia").first
        ).to_be_visible()
    if story.get("actors") is not None:
        playwright_api.expect(page.locator(".actors").get_by_text("Ukraine").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "story.png"), full_page=True)

    dw = next(a for a in story["articles"] if a["outlet"] == "DW")
    page.get_by_role("link", name=dw["title"]).click()
    page.wait_for_url(f"**/articles/{dw['id']}")
    playwright_api.expect(page.get_by_role("heading", level=1)).to_have_text(dw["title"])
    playwright_api.expect(page.get_by_text("Removed by the cleaner")).to_be_visible()
    playwright_api.expect(page.locator(".removed").get_by_text("Skip to content").first
                          ).to_be_attached()

    page.fill("#header-q", "Strategic Security Dialogue")
    page.press("#header-q", "Enter")
    page.wait_for_url("**/?q=*")
    results = page.locator(".story-list")
    playwright_api.expect(results.get_by_role("link", name=story["title"])).to_be_visible()
    playwright_api.expect(page.locator(".hits")).to_contain_text("DW")
    assert errors.dialogs == [] and errors.csp_violations == []


def test_hostile_article_shows_payloads_as_text_and_runs_nothing(server_url: str,
                                                                 page: Any) -> None:
    import httpx

    from .conftest import HOSTILE_TITLE

    errors = PageErrors(page)
    hits = httpx.get(f"{server_url}/api/v1/search", params={"q": "harbour strike"}).json()["hits"]
    hostile = next(h for h in hits if "onerror" in h["title"])
    for path in ("/", f"/stories/{hostile['story_id']}", f"/articles/{hostile['article_id']}",
                 "/?q=harbour"):
        page.goto(server_url + path)
        page.wait_for_load_state("load")
        assert page.evaluate("typeof window.__pwned") == "undefined", path
        assert page.title() != "pwned"
        assert page.locator("body script, body img[onerror], [onmouseover]").count() == 0, path
    # On the article page the payloads are there, as text.
    page.goto(f"{server_url}/articles/{hostile['article_id']}")
    playwright_api.expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE_TITLE)
    text = page.locator(".article-text").inner_text()
    assert '<script>window.__pwned = 3; document.title = "pwned"</script>' in text
    assert 'onerror="window.__pwned = 4"' in text
    assert page.locator("a[href^='javascript:']").count() == 0
    assert errors.dialogs == []


def test_pages_fit_a_phone_screen(server_url: str, browser: Any) -> None:
    story = _sample_story(server_url)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  device_scale_factor=2)
    try:
        pg = context.new_page()
        for path in ("/", f"/stories/{story['id']}", f"/articles/{story['articles'][0]['id']}"):
            pg.goto(server_url + path)
            overflow = pg.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{path} scrolls sideways by {overflow}px on a phone"
        pg.goto(f"{server_url}/stories/{story['id']}")
        pg.screenshot(path=str(SCREENSHOTS / "story-phone.png"), full_page=False)
    finally:
        context.close()
