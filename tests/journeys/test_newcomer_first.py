"""Newcomer moving off ChatGPT: a realistic unzipped export, imported the ways a user tries.

README: chatgpt SOURCE can be `conversations.json`, the unzipped folder, or the export's
`.zip`; `--format auto` is the default. A user then reads a conversation back and searches.
"""

from __future__ import annotations

import json
import uuid
import zipfile
from pathlib import Path

import pytest

N_CONVS = 40


def _node(
    mid: str, role: str, text: str, t: float | None, parent: str, hidden: bool = False
) -> dict:
    return {
        "id": mid,
        "message": {
            "id": mid, "author": {"role": role, "name": None, "metadata": {}},
            "create_time": t, "update_time": None,
            "content": {"content_type": "text", "parts": [text]},
            "status": "finished_successfully", "end_turn": role == "assistant",
            "weight": 0.0 if hidden else 1.0,
            "metadata": {"is_visually_hidden_from_conversation": True} if hidden else {},
            "recipient": "all",
        },
        "parent": parent, "children": [],
    }  # fmt: skip


def make_export(root: Path) -> tuple[Path, int]:
    """An unzipped ChatGPT export (folder) plus its zip; returns (folder, visible messages)."""
    folder = root / "chatgpt-export"
    folder.mkdir()
    convs, visible = [], 0
    for i in range(N_CONVS):
        t0 = 1_700_000_000.0 + i * 3600
        title = f"Cooking question {i}" if i % 2 else f"Python help {i}"
        root_id = str(uuid.uuid4())
        mapping = {root_id: {"id": root_id, "message": None, "parent": None, "children": []}}
        prev = root_id
        sys_id = str(uuid.uuid4())  # the hidden, empty system prompt every real export has
        mapping[sys_id] = _node(sys_id, "system", "", None, prev, hidden=True)
        mapping[prev]["children"].append(sys_id)
        prev = sys_id
        for k in range(6):
            role = "user" if k % 2 == 0 else "assistant"
            text = f"{role} turn {k} in {title}: some realistic words about it."
            if i == 7 and k == 0:
                text = "How long should I proof a sourdough loaf with rye flour?"
            mid = str(uuid.uuid4())
            mapping[mid] = _node(mid, role, text, t0 + 30 * k, prev)
            mapping[prev]["children"].append(mid)
            prev = mid
            visible += 1
        convs.append({
            "title": title, "create_time": t0, "update_time": t0 + 200, "mapping": mapping,
            "moderation_results": [], "current_node": prev, "conversation_id": str(uuid.uuid4()),
            "is_archived": False, "default_model_slug": "gpt-4o", "id": None,
        })  # fmt: skip
    (folder / "conversations.json").write_text(json.dumps(convs))
    (folder / "user.json").write_text(json.dumps({"id": "user-x", "email": "me@example.com"}))
    (folder / "message_feedback.json").write_text("[]")
    (folder / "chat.html").write_text("<html><body>chat</body></html>")
    with zipfile.ZipFile(root / "chatgpt-export.zip", "w") as z:
        for f in folder.iterdir():
            z.write(f, f.name)
    return folder, visible


def _counts(cli, db: str) -> dict:
    return cli.json("stats", "--db", db)["counts"]


def test_folder_import_read_back_and_search(cli) -> None:
    folder, visible = make_export(cli.cwd)
    cli.ok("import", str(folder), "--db", "folder.db", "--no-embed")
    counts = _counts(cli, "folder.db")
    assert counts["sessions"] == N_CONVS
    # the hidden empty system prompt of each conversation is not a message a user wrote or read
    assert counts["messages"] == visible, counts["messages"]

    sessions = cli.json("sessions", "list", "--db", "folder.db")
    s7 = next(s for s in sessions if s["title"] == "Cooking question 7")
    shown = cli.ok("sessions", "show", s7["id"], "--db", "folder.db").stdout
    assert "sourdough loaf with rye flour" in shown

    hits = cli.ok("search", "proof sourdough rye", "--user", "default", "--messages",
                  "--db", "folder.db").stdout  # fmt: skip
    assert "Cooking question 7" in hits

    again = cli("import", str(folder), "--db", "folder.db", "--no-embed")
    assert again.returncode == 0 and "already" in again.stdout + again.stderr
    assert _counts(cli, "folder.db")["messages"] == counts["messages"]


@pytest.mark.parametrize("source", ["chatgpt-export/conversations.json", "chatgpt-export.zip"])
@pytest.mark.parametrize("fmt", ["auto", "chatgpt"])
def test_file_and_zip_import_as_readme_says(cli, source: str, fmt: str) -> None:
    make_export(cli.cwd)
    result = cli("import", source, "--format", fmt, "--db", "x.db", "--no-embed")
    assert result.returncode == 0, result.stdout[-800:] + result.stderr[-800:]
    assert _counts(cli, "x.db")["sessions"] == N_CONVS


def test_truncated_file_keeps_complete_conversations(cli) -> None:
    folder, _ = make_export(cli.cwd)
    data = (folder / "conversations.json").read_bytes()
    (folder / "conversations.json").write_bytes(data[: len(data) // 2])
    result = cli("import", str(folder), "--db", "t.db", "--no-embed", "--report", "r.json")
    assert result.returncode == 2, result.stderr
    kept = _counts(cli, "t.db")["sessions"]
    assert 0 < kept < N_CONVS
    assert "truncated" in result.stdout + result.stderr


def test_reading_commands_on_missing_store_create_nothing(cli) -> None:
    for args in (["stats"], ["search", "x", "--user", "demo"], ["sessions", "list"]):
        r = cli(*args, "--db", "tpyo.db")
        assert r.returncode != 0 and "memvault init" in r.stderr
        assert not list(cli.cwd.glob("tpyo.db*"))
