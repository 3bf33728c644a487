"""A ChatGPT data export as users hold it (LEGACY_FORMATS.md §6), built deterministically.

`write_export(folder, n)` writes the unzipped layout: `conversations.json` (one line, a list
of conversations whose `mapping` trees hold a hidden system root message, user/assistant
turns, regenerated branches, code + tool output, images), beside `user.json`, `chat.html`,
`message_feedback.json`, `shared_conversations.json` and a `dalle-generations/` image;
`zip_export(folder, path)` zips it the way the download arrives. `Export` tells what a
correct import stores.
"""

from __future__ import annotations

import json
import random
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WORDS = (
    "trip",
    "Lyon",
    "market",
    "vegetarian",
    "recipe",
    "budget",
    "train",
    "museum",
    "weather",
    "sunday",
    "paris",
    "café",
    "python",
    "script",
    "bug",
    "deadline",
    "garden",
    "tomato",
    "bicycle",
    "invoice",
    "concert",
    "tickets",
    "été",
    "naïve",
    "déjà-vu",
    "東京",
    "emoji",
    "🙂",
    "☀️",
    "résumé",
    "cover",
    "letter",
    "interview",
)


@dataclass
class Export:
    """What was written: conversation ids in file order and message nodes per conversation."""

    folder: Path
    ids: list[str] = field(default_factory=list)
    messages: dict[str, int] = field(default_factory=dict)  # stored messages (see below)
    first_user_text: dict[str, str] = field(default_factory=dict)

    @property
    def file(self) -> Path:
        return self.folder / "conversations.json"

    @property
    def total_messages(self) -> int:
        return sum(self.messages.values())


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _message(
    node: str,
    role: str,
    content: dict[str, Any],
    t: float | None,
    *,
    hidden: bool = False,
    name: str | None = None,
    recipient: str = "all",
) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if hidden:
        meta["is_visually_hidden_from_conversation"] = True
    if role == "assistant":
        meta.update(model_slug="gpt-4o", finish_details={"type": "stop", "stop_tokens": [200002]})
    return {
        "id": node,
        "author": {"role": role, "name": name, "metadata": {}},
        "create_time": t,
        "update_time": None,
        "content": content,
        "status": "finished_successfully",
        "end_turn": True if role == "assistant" else None,
        "weight": 0.0 if hidden else 1.0,
        "metadata": meta,
        "recipient": recipient,
        "channel": None,
    }


def _conversation(rng: random.Random, index: int, out: Export) -> dict[str, Any]:
    conv_id = _uuid(rng)
    start = 1_700_000_000.0 + index * 3_600.0 + rng.random()
    mapping: dict[str, dict[str, Any]] = {}

    def add(parent: str | None, message: dict[str, Any] | None, node: str | None = None) -> str:
        node = node or (message["id"] if message else _uuid(rng))
        mapping[node] = {"id": node, "message": message, "parent": parent, "children": []}
        if parent is not None:
            mapping[parent]["children"].append(node)
        return node

    root = add(None, None, "client-created-root")
    system = _uuid(rng)
    last = add(root, _message(system, "system", {"content_type": "text", "parts": [""]}, None,
                              hidden=True))  # fmt: skip
    t = start
    first_user = ""
    for turn in range(rng.randint(1, 6)):
        t += rng.uniform(5, 90)
        text = _sentence(rng, rng.randint(3, 25))
        if turn == 0:
            text = f"[{conv_id[:8]}] {text}"
            first_user = text
        user_id = _uuid(rng)
        if rng.random() < 0.1:
            image = {"content_type": "image_asset_pointer",
                     "asset_pointer": f"file-service://file-{user_id[:8]}", "size_bytes": 123456,
                     "width": 800, "height": 600, "fovea": None, "metadata": None}  # fmt: skip
            parts: list[Any] = [image, text]
            content = {"content_type": "multimodal_text", "parts": parts}
        else:
            content = {"content_type": "text", "parts": [text]}
        last = add(last, _message(user_id, "user", content, round(t, 3)))
        if rng.random() < 0.15:  # the assistant runs code first
            t += 1.0
            code = _uuid(rng)
            body = {"content_type": "code", "language": "python", "text": "print(2 ** 10)"}
            last = add(last, _message(code, "assistant", body, t, recipient="python"))
            tool = _uuid(rng)
            last = add(last, _message(tool, "tool", {"content_type": "execution_output",
                                      "text": "1024"}, t + 0.5, name="python"))  # fmt: skip
        t += rng.uniform(1, 20)
        answers = 2 if rng.random() < 0.2 else 1  # a regenerated answer: a branch point
        parent = last
        for _ in range(answers):
            reply = _uuid(rng)
            answer = {"content_type": "text", "parts": [_sentence(rng, rng.randint(5, 60))]}
            last = add(parent, _message(reply, "assistant", answer, round(t, 6)))
    out.ids.append(conv_id)
    # Messages a store should hold: every node with a message but the empty hidden system
    # root ChatGPT puts in every conversation (nobody wrote it; memvault does not store it).
    out.messages[conv_id] = sum(
        1
        for n in mapping.values()
        if n["message"] is not None
        and not (
            n["message"]["metadata"].get("is_visually_hidden_from_conversation")
            and n["message"]["content"].get("parts") == [""]
        )
    )
    out.first_user_text[conv_id] = first_user
    return {
        "title": None if rng.random() < 0.05 else _sentence(rng, 3).rstrip("."),
        "create_time": start,
        "update_time": t,
        "mapping": mapping,
        "moderation_results": [],
        "current_node": last,
        "plugin_ids": None,
        "conversation_id": conv_id,
        "conversation_template_id": None,
        "gizmo_id": None,
        "gizmo_type": None,
        "is_archived": rng.random() < 0.05,
        "is_starred": None,
        "safe_urls": [],
        "blocked_urls": [],
        "default_model_slug": "gpt-4o",
        "conversation_origin": None,
        "voice": None,
        "async_status": None,
        "disabled_tool_ids": [],
        "is_do_not_remember": False,
        "memory_scope": "global_enabled",
        "id": conv_id,
    }


def conversations(n: int, seed: int = 7) -> tuple[list[dict[str, Any]], Export]:
    """`n` conversations and what they hold (the Export's folder is unset)."""
    rng = random.Random(seed)
    out = Export(Path())
    return [_conversation(rng, i, out) for i in range(n)], out


def write_export(folder: Path, n: int = 300, seed: int = 7) -> Export:
    """The unzipped export of `n` conversations in `folder`."""
    convs, out = conversations(n, seed)
    out.folder = folder
    folder.mkdir(parents=True, exist_ok=True)
    # One line, raw UTF-8: how the export ships conversations.json.
    out.file.write_text(json.dumps(convs, ensure_ascii=False), "utf-8")
    (folder / "user.json").write_text(
        json.dumps({"id": "user-Xq3", "email": "alice@example.com", "chatgpt_plus_user": True,
                    "phone_number": None}), "utf-8")  # fmt: skip
    (folder / "message_feedback.json").write_text(
        json.dumps([{"id": _uuid(random.Random(1)), "conversation_id": out.ids[0],
                     "user_id": "user-Xq3", "rating": "thumbsUp", "content": "{}"}]),
        "utf-8",
    )  # fmt: skip
    (folder / "shared_conversations.json").write_text(
        json.dumps([{"id": "share-1", "conversation_id": out.ids[-1], "title": "shared",
                     "is_anonymous": True}]), "utf-8")  # fmt: skip
    (folder / "chat.html").write_text(
        "<!DOCTYPE html><html><head><meta charset='UTF-8'><title>ChatGPT Data Export</title>"
        f"</head><body><script>var jsonData = {json.dumps(convs[:2])};</script></body></html>",
        "utf-8",
    )
    (folder / "dalle-generations").mkdir(exist_ok=True)
    (folder / "dalle-generations" / "file-abc.webp").write_bytes(b"RIFF\x00\x00\x00\x00WEBPVP8 ")
    return out


def zip_export(folder: Path, path: Path) -> Path:
    """`folder`'s files at the root of a zip (how the download arrives)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                zf.write(file, file.relative_to(folder).as_posix())
    return path


def complete_before(text: str, cut: int) -> int:
    """How many top-level conversations of the one-line array `text` end before byte `cut`
    (the decoder's own notion of a complete element)."""
    data = text.encode("utf-8")[:cut].decode("utf-8", "ignore")
    decoder = json.JSONDecoder()
    pos = data.index("[") + 1 if "[" in data else len(data)
    n = 0
    while True:
        while pos < len(data) and data[pos] in " \n\t\r,":
            pos += 1
        try:
            _, pos = decoder.raw_decode(data, pos)
        except ValueError:
            return n
        n += 1
