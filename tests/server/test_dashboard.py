"""The dashboard in real headless Chromium (the system's /usr/bin/chromium via Playwright):
pages load with data, search works, the live feed updates on a write, and an injected
`<script>` in a memory stays inert. Screenshots go to artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from memvault.ids import new_id
from tests._browser import chromium
from tests.server.conftest import Served

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
INJECTED = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (tests/_browser.py: fails under CI=true when missing)."""
    yield from chromium()


def populate(s: Served) -> None:
    """A week of Alice's life: emotions, trait changes, memories, tool calls, routing, an
    import run."""
    v, alice = s.vault, s.alice.id
    start = datetime.now(UTC) - timedelta(days=7)
    session = v.sessions.create(alice, title="week")
    for day in range(7):
        at = start + timedelta(days=day, hours=3)
        v.emotions.record(alice, "joy", 0.3 + day * 0.09, occurred_at=at, session_id=session.id)
        v.emotions.record(alice, "stress", 0.8 - day * 0.1, occurred_at=at + timedelta(hours=5))
        v.traits.set(alice, "curiosity", 0.4 + day * 0.08, reason=f"day {day}")
        v.traits.set(alice, "patience", 0.7 - day * 0.05)
    for kind, content, confidence in [
        ("preference", "Alice loves hiking in the Alps", 0.9),
        ("fact", "Alice has two cats named Miso and Tofu", 0.75),
        ("note", INJECTED, 0.3),
    ]:
        v.memories.add(alice, kind, content, confidence=confidence, embedding=True)
    for i, tool in enumerate(["Bash"] * 6 + ["Read"] * 4 + ["Edit"] * 2):
        v.actions.record(tool, user_id=alice, exit_code=0 if i % 4 else 1, duration_ms=10 + i)
    v.routing.update("run the test suite", "Bash", True, user_id=alice)
    v.routing.update("read the config file", "Read", True, user_id=alice)
    with v.store.write() as tx:
        tx.execute(
            "INSERT INTO import_runs (id, source, format, status, options, report, started_at, "
            "finished_at) VALUES (:id, :src, 'workly', 'completed', :opt, :rep, :t, :t)",
            {"id": new_id(), "src": "/home/alice/workly", "opt": tx.json({}),
             "rep": tx.json({"records": 1234, "quarantined": 2, "verified": True}),
             "t": tx.ts(datetime.now(UTC))},
        )  # fmt: skip


@pytest.fixture
def page(browser: Any, served_sqlite: Served) -> Iterator[Any]:
    populate(served_sqlite)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.errors = errors
    try:
        yield pg
    finally:
        context.close()


def shot(pg: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def test_store_page_shows_counts_and_import_runs(page: Any, served_sqlite: Served) -> None:
    s = served_sqlite
    page.goto(f"{s.url}/store#key={s.admin_key}")
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    assert s.admin_key not in page.url  # the key leaves the address bar at once
    assert page.text_content("#engine") == "sqlite"
    assert page.text_content("#schema")
    assert "KiB" in page.text_content("#size") or "MiB" in page.text_content("#size")
    counts = dict(
        (
            row.query_selector_all("td")[0].text_content(),
            row.query_selector_all("td")[1].text_content(),
        )
        for row in page.query_selector_all("#counts tbody tr")
    )
    assert counts["memories"] == "3" and counts["actions"] == "12" and counts["users"] == "2"
    assert page.locator("#imports tbody tr", has_text="workly").count() == 1
    assert "1234" in page.text_content("#imports pre")
    shot(page, "store")
    assert page.errors == []


def test_index_memory_search_and_live_feed(page: Any, served_sqlite: Served) -> None:
    s = served_sqlite
    page.goto(f"{s.url}/#key={s.admin_key}")
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    assert page.locator("#counts").count() == 0  # table counts live on /store
    assert page.locator("#users a", has_text="Alice").count() == 1
    # Memory search (hybrid) for Alice.
    page.select_option("#search-scope", "memories")
    page.select_option("#search-user", s.alice.id)
    page.fill("#search-q", "walks in the mountains")  # no word in common: the vector leg
    page.click("#search button")
    page.wait_for_selector("#search-results li.hit", timeout=20_000)
    first = page.text_content("#search-results li.hit")
    assert "Alice loves hiking in the Alps" in first
    # Live feed: a write through the API shows up as a sentence.
    page.wait_for_selector("#feed-state.live", timeout=10_000)
    with s.client(s.alice_key) as c:
        c.post("/api/memories", json={"kind": "event", "content": "went to the lake"})
    page.wait_for_selector("#feed li:has-text('An event memory was added for Alice')",
                           timeout=10_000)  # fmt: skip
    shot(page, "index")
    assert page.errors == []


def test_user_page_charts_memories_and_inert_script(page: Any, served_sqlite: Served) -> None:
    s = served_sqlite
    page.goto(f"{s.url}/users/{s.alice.id}#key={s.alice_key}")
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    assert page.text_content("#user-title") == "Alice (alice)"
    # Emotion timeline: a line per emotion with a point per event.
    assert page.locator("#emotions-chart path.series").count() == 2
    assert page.locator("#emotions-chart circle.point").count() == 14
    assert page.locator("#traits-chart path.series").count() == 2
    assert page.locator("#tools-chart rect.bar").count() == 3
    assert page.locator("#routing-chart rect.bar").count() >= 2
    rows = page.locator("#memories tbody tr.memory")
    assert rows.count() == 3
    text = page.text_content("#memories")
    assert "preference" in text and "0.90" in text and "Miso and Tofu" in text
    # The injected markup is shown as text, and nothing of it ran.
    assert INJECTED in text
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#memories script").count() == 0
    assert page.locator("#memories img").count() == 0
    # Live feed on the user page.
    page.wait_for_selector("#feed-state.live", timeout=10_000)
    with s.client(s.alice_key) as c:
        c.post("/api/actions", json={"tool_name": "Grep"})
    page.wait_for_selector("#feed li:has-text('Alice used the tool Grep')", timeout=10_000)
    shot(page, "user")
    assert page.errors == []


def test_a_user_key_cannot_open_another_users_page(page: Any, served_sqlite: Served) -> None:
    s = served_sqlite
    page.goto(f"{s.url}/users/{s.alice.id}#key={s.bob_key}")
    page.wait_for_selector("#error:not([hidden])", timeout=20_000)
    assert "not found" in page.text_content("#error")
    assert "hiking" not in page.content()


def test_without_a_key_the_page_asks_for_one(page: Any, served_sqlite: Served) -> None:
    page.goto(served_sqlite.url + "/")
    page.wait_for_selector("#login:not([hidden])", timeout=20_000)
    page.fill("#key-input", "mv_00000000_" + "a" * 43)
    page.click("#login button")
    page.wait_for_selector("#error:not([hidden])", timeout=20_000)
    assert "refused" in page.text_content("#error")
