"""The dashboard as a person reads it, in real headless Chromium against a served app:
their conversations (listed, opened, paged), message search that leads to the message, an
overview front page, a live feed in sentences, requests / waves / subtasks / agent messages,
a user key that sees only its own, and every page at phone (390 px) and desktop (1280 px)
width without sideways scrolling. Screenshots go to the test's tmp dir."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests._browser import DESKTOP, PHONE, chromium, scroll_width
from tests.server.conftest import Served

LONG = 120  # messages in the long conversation: three pages of 50
WIDTHS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])


@dataclass
class Data:
    trip: str
    long: str
    secret: str
    bob_memory: str


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium()


@pytest.fixture
def data(served_sqlite: Served) -> Data:
    """Alice: a short trip conversation, a 120-message one, a request in two waves and agent
    messages. Bob: one conversation, a memory, an agent message."""
    v, alice, bob = served_sqlite.vault, served_sqlite.alice.id, served_sqlite.bob.id
    t0 = datetime.now(UTC) - timedelta(days=2)
    trip = v.sessions.create(alice, title="Trip planning", started_at=t0)
    for i, (role, text) in enumerate([
        ("user", "I want to visit Lyon in spring."),
        ("assistant", "Les Halles Paul Bocuse is a must for food lovers."),
        ("user", "I'm vegetarian, is that a problem?"),
        ("assistant", "Not at all: several stalls are vegetarian."),
    ]):  # fmt: skip
        v.messages.append(trip.id, role, text, created_at=t0 + timedelta(minutes=i))
    long = v.sessions.create(alice, title="Long chat", started_at=t0 - timedelta(days=1))
    for i in range(1, LONG + 1):
        text = "the zeppelin idea, finally" if i == 110 else f"turn number {i}"
        v.messages.append(long.id, "user" if i % 2 else "assistant", text,
                          created_at=t0 - timedelta(days=1) + timedelta(seconds=i))  # fmt: skip
    secret = v.sessions.create(bob, title="Bob's secret plans")
    v.messages.append(secret.id, "user", "the vault code is swordfish, Lyon is a decoy")
    bob_memory = v.memories.add(bob, "fact", "Bob keeps secrets")
    request = v.tasks.create_request("Refactor the billing module", user_id=alice)
    analysis = v.tasks.add_wave(request.id, user_id=alice, name="analysis")
    changes = v.tasks.add_wave(request.id, user_id=alice, name="changes")
    read = v.tasks.add_subtask(analysis.id, "Read the billing code", user_id=alice,
                               agent_id="explorer")  # fmt: skip
    callers = v.tasks.add_subtask(analysis.id, "List the callers", user_id=alice,
                                  agent_id="explorer")  # fmt: skip
    v.tasks.add_subtask(changes.id, "Rewrite invoice totals", user_id=alice, agent_id="coder")
    v.tasks.set_status(read.id, "running", user_id=alice)
    v.tasks.set_status(read.id, "completed", user_id=alice, result={"files": 12})
    v.tasks.set_status(callers.id, "running", user_id=alice)
    v.agents.send("explorer", to_agent="coder", payload={"summary": "billing uses floats"},
                  user_id=alice)  # fmt: skip
    v.agents.send("ci", topic="builds", payload="build green", user_id=alice)
    v.agents.send("spy", to_agent="coder", payload="bob only", user_id=bob)
    return Data(trip.id, long.id, secret.id, bob_memory.id)


def open_page(browser: Any, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    return page


def visit(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)


def fits(page: Any, viewport: dict[str, int], shots: Path, name: str) -> None:
    """No sideways scrolling at this width; a full-page screenshot to look at."""
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / f"{name}-{viewport['width']}.png"), full_page=True)
    assert scroll_width(page) <= viewport["width"], name


@WIDTHS
def test_a_person_reads_their_conversations(
    browser: Any, served_sqlite: Served, data: Data, viewport: dict[str, int], tmp_path: Path
) -> None:
    s = served_sqlite
    page = open_page(browser, viewport)
    visit(page, f"{s.url}/users/{s.alice.id}#key={s.alice_key}")
    rows = page.locator("#sessions li.session")
    assert rows.count() == 2
    trip_row = page.locator("#sessions li.session", has_text="Trip planning")
    assert "4 messages" in trip_row.text_content()
    assert "120 messages" in page.locator("#sessions li", has_text="Long chat").text_content()
    assert "Bob's secret plans" not in page.text_content("#sessions")
    fits(page, viewport, tmp_path / "shots", "user")
    trip_row.locator("a").click()
    page.wait_for_url(f"**/sessions/{data.trip}")
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    assert page.text_content("#session-title") == "Trip planning"
    assert "Alice" in page.text_content("#session-user")
    messages = page.locator("#messages li.msg")
    assert messages.count() == 4
    roles = [m.text_content() for m in page.locator("#messages .msg-head .role").all()]
    assert roles == ["user", "assistant", "user", "assistant"]
    assert "visit Lyon" in messages.nth(0).text_content()
    assert "Les Halles" in messages.nth(1).text_content()
    assert all(t.text_content() for t in page.locator("#messages time").all())
    assert page.is_hidden("#messages-more")
    fits(page, viewport, tmp_path / "shots", "conversation")
    assert page.errors == []


def test_a_long_conversation_is_paged_in_order(
    browser: Any, served_sqlite: Served, data: Data
) -> None:
    s = served_sqlite
    page = open_page(browser, DESKTOP)
    visit(page, f"{s.url}/sessions/{data.long}#key={s.admin_key}")
    assert page.locator("#messages li.msg").count() == 50
    page.click("#messages-more")
    page.wait_for_function("() => document.querySelectorAll('#messages li.msg').length === 100")
    page.click("#messages-more")
    page.wait_for_function(f"() => document.querySelectorAll('#messages li.msg').length === {LONG}")
    assert page.is_hidden("#messages-more")
    ids = page.eval_on_selector_all("#messages li.msg", "els => els.map((e) => e.id)")
    assert ids == [f"m{i}" for i in range(1, LONG + 1)]
    assert page.errors == []


def test_a_users_conversations_are_listed_twenty_at_a_time(
    browser: Any, served_sqlite: Served, data: Data
) -> None:
    s = served_sqlite
    for i in range(23):
        s.vault.sessions.create(s.alice.id, title=f"chat {i:02d}")
    page = open_page(browser, DESKTOP)
    visit(page, f"{s.url}/users/{s.alice.id}#key={s.admin_key}")
    assert page.locator("#sessions li.session").count() == 20
    page.click("#sessions-more")
    page.wait_for_function("() => document.querySelectorAll('#sessions li.session').length === 25")
    assert page.is_hidden("#sessions-more")
    titles = [t.text_content() for t in page.locator("#sessions li.session .title").all()]
    assert len(set(titles)) == 25 and "Trip planning" in titles and "chat 00" in titles
    assert page.errors == []


@WIDTHS
def test_message_search_leads_to_the_message(
    browser: Any, served_sqlite: Served, data: Data, viewport: dict[str, int], tmp_path: Path
) -> None:
    s = served_sqlite
    page = open_page(browser, viewport)
    visit(page, f"{s.url}/users/{s.alice.id}#key={s.alice_key}")
    assert page.input_value("#search-scope") == "messages"
    page.fill("#search-q", "zeppelin")
    page.click("#search button")
    hit = page.locator("#search-results li.message-hit")
    hit.first.wait_for(timeout=20_000)
    assert hit.count() == 1
    page.wait_for_selector("#search-results li.message-hit:has-text('Long chat')")
    assert "the zeppelin idea" in hit.text_content()
    fits(page, viewport, tmp_path / "shots", "search")
    hit.locator("a").click()
    page.wait_for_url(f"**/sessions/{data.long}?seq=110")
    # Message 110 is on the third page: the page loads until it and marks it.
    page.wait_for_selector("#m110.target", timeout=30_000)
    assert "zeppelin" in page.text_content("#m110")
    assert page.locator("#messages li.msg").count() >= 110
    # A word that is only in Bob's conversation finds nothing for Alice.
    visit(page, f"{s.url}/users/{s.alice.id}#key={s.alice_key}")
    page.fill("#search-q", "swordfish")
    page.click("#search button")
    page.wait_for_selector("#search-results li.muted:has-text('No message matches')")
    assert page.errors == []


@WIDTHS
def test_the_front_page_is_an_overview_with_a_feed_in_sentences(
    browser: Any, served_sqlite: Served, data: Data, viewport: dict[str, int], tmp_path: Path
) -> None:
    s = served_sqlite
    page = open_page(browser, viewport)
    visit(page, f"{s.url}/#key={s.admin_key}")
    assert page.locator("#counts").count() == 0  # no internal tables on the front page
    users = page.text_content("#users")
    assert "Alice" in users and "Bob" in users
    recent = page.locator("#recent li.session")
    assert recent.count() == 3
    assert "Alice" in page.locator("#recent li", has_text="Trip planning").text_content()
    assert "Bob" in page.locator("#recent li", has_text="Bob's secret plans").text_content()
    # Recent activity, from what the store keeps, before anything happens live.
    page.wait_for_selector("#feed li:has-text('Alice asked: “Refactor the billing module”')")
    history = page.text_content("#feed")
    assert "A fact memory was added for Bob" in history
    assert "Bob was last active in “Bob's secret plans” (1 message)" in history
    assert "Agent explorer sent a message to coder" in history
    assert "Agent ci sent a message on “builds”" in history
    page.wait_for_selector("#feed-state.live", timeout=10_000)
    with s.client(s.alice_key) as alice, s.client(s.admin_key) as admin:
        alice.post(
            f"/api/sessions/{data.trip}/messages",
            json={"role": "user", "content": "And in summer?"},
        ).raise_for_status()
        page.wait_for_selector("#feed li:has-text('Alice added a message to “Trip planning”')",
                               timeout=10_000)  # fmt: skip
        alice.post(
            f"/api/sessions/{data.trip}/messages",
            json={"role": "assistant", "content": "Summer works too."},
        ).raise_for_status()
        admin.patch(f"/api/memories/{data.bob_memory}",
                    json={"content": "Bob keeps many secrets"}).raise_for_status()  # fmt: skip
    page.wait_for_selector(
        "#feed li:has-text('The assistant replied to Alice in “Trip planning”')", timeout=10_000
    )
    page.wait_for_selector("#feed li:has-text('A memory was updated for Bob')", timeout=10_000)
    feed = page.text_content("#feed")
    assert "message.appended" not in feed and "memory.updated" not in feed
    live = page.locator("#feed li.live")
    assert live.count() == 3
    assert "A memory was updated for Bob" in live.nth(0).text_content()  # newest on top
    link = page.locator("#feed li", has_text="Alice added a message").locator("a")
    assert link.get_attribute("href") == f"/sessions/{data.trip}"
    fits(page, viewport, tmp_path / "shots", "front")
    assert page.errors == []


@WIDTHS
def test_requests_waves_subtasks_and_agent_messages(
    browser: Any, served_sqlite: Served, data: Data, viewport: dict[str, int], tmp_path: Path
) -> None:
    s = served_sqlite
    page = open_page(browser, viewport)
    visit(page, f"{s.url}/tasks#key={s.alice_key}")
    request = page.locator("#requests li.request", has_text="Refactor the billing module")
    assert request.count() == 1
    assert "2 waves" in request.text_content()
    waves = [w.text_content() for w in request.locator(".wave h3").all()]
    assert waves == ["Wave 1: analysis · pending", "Wave 2: changes · pending"]
    rows = {
        r.locator("td").nth(0).text_content(): (
            r.locator("td").nth(1).text_content(),
            r.locator("td").nth(2).text_content(),
        )
        for r in request.locator("tr.subtask").all()
    }
    assert rows == {
        "Read the billing code": ("explorer", "completed"),
        "List the callers": ("explorer", "running"),
        "Rewrite invoice totals": ("coder", "pending"),
    }
    messages = page.locator("#agent-messages li.agent-message")
    assert messages.count() == 2  # Alice's two; Bob's is not hers
    text = page.text_content("#agent-messages")
    assert "explorer → coder" in text and "summary: billing uses floats" in text
    assert "ci" in text and "“builds”" in text
    assert "bob only" not in text
    fits(page, viewport, tmp_path / "shots", "tasks")
    assert page.errors == []


def test_a_user_key_sees_only_its_own(browser: Any, served_sqlite: Served, data: Data) -> None:
    s = served_sqlite
    page = open_page(browser, PHONE)
    visit(page, f"{s.url}/#key={s.bob_key}")
    assert page.text_content("#recent").count("Bob's secret plans") == 1
    assert "Trip planning" not in page.text_content("#recent")
    assert "Alice" not in page.text_content("#users")
    feed = page.text_content("#feed")
    assert "Bob was last active in “Bob's secret plans”" in feed
    assert "billing" not in feed and "Alice" not in feed and "explorer" not in feed
    page.fill("#search-q", "Lyon")
    page.click("#search button")
    page.wait_for_selector("#search-results li", timeout=20_000)
    assert "decoy" in page.text_content("#search-results")  # his own message, not Alice's
    assert "visit Lyon" not in page.text_content("#search-results")
    visit(page, f"{s.url}/tasks#key={s.bob_key}")
    assert "billing" not in page.text_content("#app")
    assert "bob only" in page.text_content("#agent-messages")
    # Alice's conversation by its address: not found, and nothing of it on the page.
    page.goto(f"{s.url}/sessions/{data.trip}#key={s.bob_key}")
    page.wait_for_selector("#error:not([hidden])", timeout=20_000)
    assert "not found" in page.text_content("#error")
    assert "Lyon" not in page.content()
    with s.client(s.bob_key) as bob:
        own = bob.get("/api/agent-messages").json()["items"]
        assert [m["payload"] for m in own] == ["bob only"]
        assert bob.get("/api/agent-messages", params={"user_id": s.alice.id}).status_code == 404
    with s.client(s.admin_key) as admin:
        everyone = admin.get("/api/agent-messages", params={"limit": 2}).json()
        assert len(everyone["items"]) == 2 and everyone["next_offset"] == 2
        rest = admin.get("/api/agent-messages", params={"limit": 2, "offset": 2}).json()
        assert len(rest["items"]) == 1 and rest["next_offset"] is None
        by_agent = admin.get("/api/agent-messages", params={"agent_id": "coder"}).json()
        assert sorted(m["from_agent"] for m in by_agent["items"]) == ["explorer", "spy"]
    assert page.errors == []


@WIDTHS
def test_every_page_fits_the_width(
    browser: Any, served_sqlite: Served, data: Data, viewport: dict[str, int], tmp_path: Path
) -> None:
    s = served_sqlite
    page = open_page(browser, viewport)
    visit(page, f"{s.url}/#key={s.admin_key}")  # the key is kept for the tab from here on
    for name, path in [
        ("index", "/"),
        ("user", f"/users/{s.alice.id}"),
        ("long", f"/sessions/{data.long}"),
        ("tasks", "/tasks"),
        ("store", "/store"),
    ]:
        visit(page, s.url + path)
        fits(page, viewport, tmp_path / "shots", f"page-{name}")
    assert page.errors == []


def test_reading_and_searching_a_conversation_on_every_engine(browser: Any, served: Served) -> None:
    """The same pages over SQLite, PostgreSQL 15 and 18 (times, full-text search, paging)."""
    s = served
    chat = s.vault.sessions.create(s.alice.id, title="Garden")
    for i in range(1, 56):
        text = "plant the tomatoes after the frost" if i == 53 else f"garden note {i}"
        s.vault.messages.append(chat.id, "user" if i % 2 else "assistant", text)
    page = open_page(browser, PHONE)
    visit(page, f"{s.url}/users/{s.alice.id}#key={s.alice_key}")
    assert "55 messages" in page.text_content("#sessions")
    page.fill("#search-q", "tomatoes")
    page.click("#search button")
    hit = page.locator("#search-results li.message-hit")
    hit.first.wait_for(timeout=20_000)
    assert hit.count() == 1
    hit.locator("a").click()
    page.wait_for_selector("#m53.target", timeout=30_000)  # on the second page of 50
    assert page.locator("#messages li.msg").count() == 55
    assert all(t.text_content() for t in page.locator("#messages time").all())
    assert "Invalid Date" not in page.text_content("#messages")
    assert scroll_width(page) <= PHONE["width"]
    assert page.errors == []
