"""A newcomer's first look at the dashboard: `memvault demo`, an admin key, `memvault serve`,
then Chromium opens the front page, reads the demo conversation and finds a message by
searching — at phone and desktop width."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._browser import DESKTOP, PHONE, chromium, scroll_width
from tests.journeys.conftest import Cli


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_the_demo_conversation_in_the_dashboard(
    cli: Cli, service: Any, browser: Any, viewport: dict[str, int], tmp_path: Path
) -> None:
    cli.ok("demo")
    created = cli.json("keys", "create", "--admin")
    key = created["key"] if "key" in created else created["secret"]
    served = service()
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    width = viewport["width"]
    try:
        page.goto(f"{served.url}/#key={key}")
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        assert "Demo User" in page.text_content("#users")
        demo = page.locator("#recent li.session", has_text="memvault demo")
        assert "4 messages" in demo.text_content()
        page.screenshot(path=str(tmp_path / f"front-{width}.png"), full_page=True)
        assert scroll_width(page) <= width
        # Read the conversation.
        demo.locator("a").click()
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        assert page.text_content("#session-title") == "memvault demo"
        turns = [m.text_content() for m in page.locator("#messages li.msg .content").all()]
        assert turns[0] == "Hi! I'm planning a trip to Lyon next spring."
        assert "Les Halles Paul Bocuse" in turns[3] and len(turns) == 4
        page.screenshot(path=str(tmp_path / f"conversation-{width}.png"), full_page=True)
        assert scroll_width(page) <= width
        # Back to the user, search a message, follow the hit.
        page.click("#session-user")
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        page.fill("#search-q", "always")  # in the third turn only
        page.click("#search button")
        hit = page.locator("#search-results li.message-hit")
        hit.first.wait_for(timeout=20_000)
        assert hit.count() == 1 and "Food markets, always." in hit.text_content()
        page.screenshot(path=str(tmp_path / f"search-{width}.png"), full_page=True)
        assert scroll_width(page) <= width
        hit.locator("a").click()
        page.wait_for_selector("#m3.target", timeout=30_000)
        assert "vegetarian" in page.text_content("#m3")
        assert errors == []
    finally:
        context.close()
    assert served.process.poll() is None, served.log[-2000:]  # still serving
