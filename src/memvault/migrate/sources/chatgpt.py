"""ChatGPT data exports, `conversations.json` (LEGACY_FORMATS.md §6; contract §8).

Files (LAYOUTS): the `conversations.json` file itself, an unzipped export (a folder holding
`conversations.json` beside `user.json`, `chat.html`, …), or a folder of unzipped exports
(`*/conversations.json`); the export's zip is unpacked by the pipeline. A conversation
present in several exports keeps the copy with the largest `update_time` (the first seen
on a tie). Each kept conversation becomes a SessionRec; every node with a message, on
every branch, becomes a MessageRec in depth-first tree order, with `metadata.active` (on
the current_node → root chain) and `metadata.hidden`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from memvault.migrate.sources._base import (
    Scan,
    ScanContext,
    ScanOptions,
    as_number,
    child,
    clean_json,
    key,
    sorted_files,
)
from memvault.migrate.sources._json import Item, JsonStream
from memvault.migrate.sources._time import from_epoch
from memvault.migrate.sources.records import MessageRec, Record, SessionRec

FORMAT = "chatgpt"
ROLES = frozenset({"system", "user", "assistant", "tool"})


LAYOUTS = (
    "conversations.json (the file itself)",
    "an unzipped export: a folder holding conversations.json (beside user.json, chat.html, …)",
    "the export's .zip",
    "a folder of unzipped exports: */conversations.json",
)


def scan(root: Path, options: ScanOptions | None = None) -> Scan:
    """Scan `conversations.json`, an unzipped export, or a folder of unzipped exports."""
    return Scan(FORMAT, root, _produce, options)


def files(root: Path) -> list[Path]:
    """The `conversations.json` files of an export folder or of a folder of exports."""
    top = root / "conversations.json"
    return ([top] if top.is_file() else []) + sorted_files(root, "*/conversations.json")


def walk(js: JsonStream) -> Iterator[Item]:
    """Conversations of a top-level array, or of `{"conversations": [...]}`."""
    if js.at_end():
        return
    first = js.peek()
    if first == "[":
        yield from js.iter_array()
    elif first == "{":
        for name in js.iter_object():
            if name == "conversations" and js.peek() == "[":
                yield from js.iter_array()
            else:
                js.value(-1)
    else:
        raise js.corrupt("expected a JSON array of conversations")
    js.finish()


def conversation_id(value: Any) -> str | None:
    """The id of a valid conversation (has an id and an object mapping), else None."""
    if not isinstance(value, dict) or not isinstance(value.get("mapping"), dict):
        return None
    for name in ("id", "conversation_id"):
        ident = value.get(name)
        if isinstance(ident, str) and ident:
            return ident
    return None


def _rank(value: dict[str, Any]) -> float:
    number = as_number(value.get("update_time"))
    return float("-inf") if number is None else number


def _produce(ctx: ScanContext) -> Iterator[Record]:
    best: dict[str, tuple[float, int, int]] = {}
    passes: list[tuple[int, str, Iterator[Item]]] = []
    for file_no, path in enumerate(ctx.candidates(files(ctx.root))):

        def observe(item: Item, file_no: int = file_no) -> None:
            ident = conversation_id(item.value)
            if ident is None:
                return
            rank = (_rank(item.value), -file_no, -item.index)
            if ident not in best or rank > best[ident]:
                best[ident] = rank

        items, bad = ctx.read_json(path, walk, observe=observe)
        if bad is not None:
            yield bad
            continue
        assert items is not None
        passes.append((file_no, ctx.rel(path), items))
    yield from ctx.user(ctx.options.default_user)
    for file_no, rel, items in passes:
        for item in items:
            ident = conversation_id(item.value)
            if ident is None:
                ctx.report.add("bad_records", "conversations_invalid")
                field = "mapping" if isinstance(item.value, dict) else ""
                if isinstance(item.value, dict) and isinstance(item.value.get("mapping"), dict):
                    field = "id"
                yield ctx.quarantine(
                    rel, "conversation needs an id and an object mapping", item.text,
                    index=item.index, line=item.line, field=field,
                )  # fmt: skip
                continue
            _, won_file, won_index = best[ident]
            if (-won_file, -won_index) != (file_no, item.index):
                ctx.report.add("duplicates", "conversations_superseded")
                continue
            yield from _conversation(ctx, rel, ident, clean_json(item.value, item.text))


def _hidden(node_msg: dict[str, Any]) -> bool:
    meta = node_msg.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    content = node_msg.get("content")
    ctype = content.get("content_type") if isinstance(content, dict) else None
    return (
        node_msg.get("weight") == 0
        or meta.get("is_visually_hidden_from_conversation") is True
        or meta.get("is_user_system_message") is True
        or ctype == "user_editable_context"
    )


def _role(node_msg: dict[str, Any]) -> str:
    author = node_msg.get("author")
    role = author.get("role") if isinstance(author, dict) else None
    return role if isinstance(role, str) else ""


def render(content: Any) -> tuple[str, list[Any]]:
    """(text, image parts) of a message's polymorphic `content`."""
    if not isinstance(content, dict):
        return "", []
    images: list[Any] = []
    parts = content.get("parts")
    if isinstance(parts, list):
        texts: list[str] = []
        for p in parts:
            if isinstance(p, str):
                texts.append(p)
            elif isinstance(p, dict) and p.get("content_type") == "image_asset_pointer":
                images.append(p)
            elif isinstance(p, dict) and isinstance(p.get("text"), str):
                texts.append(p["text"])
        return "\n".join(texts), images
    ctype = content.get("content_type")
    if ctype == "thoughts" and isinstance(content.get("thoughts"), list):
        pieces = [
            "\n".join(str(t.get(k)) for k in ("summary", "content") if t.get(k))
            for t in content["thoughts"]
            if isinstance(t, dict)
        ]
        return "\n\n".join(p for p in pieces if p), []
    if ctype == "user_editable_context":
        pieces = [str(content[k]) for k in ("user_profile", "user_instructions") if content.get(k)]
        return "\n\n".join(pieces), []
    for name in ("text", "content", "result", "name"):
        if isinstance(content.get(name), str):
            return str(content[name]), []
    return "", []


def _conversation(ctx: ScanContext, rel: str, ident: str, conv: dict[str, Any]) -> Iterator[Record]:
    report = ctx.report
    mapping: dict[str, Any] = conv["mapping"]
    nodes = {k: v for k, v in mapping.items() if isinstance(v, dict)}
    messages = {k: v["message"] for k, v in nodes.items() if isinstance(v.get("message"), dict)}
    active: set[str] = set()
    current = conv.get("current_node")
    while isinstance(current, str) and current in nodes and current not in active:
        active.add(current)
        current = nodes[current].get("parent")
    on_path = [m for k, m in messages.items() if k in active]
    visible = [m for m in on_path if not _hidden(m) and _role(m) != "system"]
    report.add("entities", "conversations")
    report.add("entities", "messages_all_nodes", len(messages))
    report.add("entities", "messages_active_path", len(on_path))
    report.add("entities", "messages_active_visible", len(visible))
    report.add(
        "entities",
        "branch_points",
        sum(
            1
            for n in nodes.values()
            if isinstance(n.get("children"), list) and len(n["children"]) >= 2
        ),
    )
    if not visible:
        report.add("warnings", "conversations_without_visible_messages")
    owner = ctx.options.default_user
    session_key = key(FORMAT, "conversation", ident)
    started = from_epoch(conv.get("create_time"))
    title = conv.get("title")
    # A node ChatGPT itself hides and that holds nothing (the empty system message at the
    # root of every conversation) is not a message anyone wrote: it is not stored as one,
    # its id is kept in the session's metadata.
    empty_hidden = [
        nid
        for nid in _tree_order(nodes)
        if nid in messages
        and _hidden(messages[nid])
        and render(messages[nid].get("content")) == ("", [])
    ]
    if empty_hidden:
        report.add("entities", "empty_hidden_nodes_not_stored", len(empty_hidden))
    meta_conv = {k: v for k, v in conv.items() if k != "mapping"}
    if empty_hidden:
        meta_conv["empty_hidden_nodes"] = empty_hidden
    yield SessionRec(
        source_key=session_key,
        user_handle=owner,
        kind="chat",
        title=title if isinstance(title, str) else None,
        status="archived" if conv.get("is_archived") is True else "active",
        created_at=started,
        updated_at=from_epoch(conv.get("update_time")),
        metadata={**meta_conv, "export_file": rel},
    )
    seq = 0
    skip = set(empty_hidden)
    for node_id in _tree_order(nodes):
        msg = messages.get(node_id)
        if msg is None or node_id in skip:
            continue
        text, images = render(msg.get("content"))
        report.add("entities", "image_parts", len(images))
        created = from_epoch(msg.get("create_time"))
        role = _role(msg)
        content = msg.get("content")
        meta: dict[str, Any] = {
            "node_id": node_id,
            "parent_node_id": nodes[node_id].get("parent"),
            "active": node_id in active,
            "hidden": _hidden(msg),
            "content_type": content.get("content_type") if isinstance(content, dict) else None,
            **{k: msg[k] for k in ("status", "recipient", "weight", "end_turn") if k in msg},
        }
        author = msg.get("author")
        if isinstance(author, dict) and author.get("name") is not None:
            meta["author_name"] = author["name"]
        if isinstance(msg.get("metadata"), dict) and msg["metadata"]:
            meta["message_metadata"] = msg["metadata"]
        if images:
            meta["images"] = images
        if isinstance(content, dict) and not isinstance(content.get("parts"), list):
            meta["content"] = {k: v for k, v in content.items() if k != "content_type"}
        if role not in ROLES:
            meta["role_raw"] = role
            role = "system"
        if created is None:
            created = started
            meta["created_at_inferred"] = True
        seq += 1
        yield MessageRec(
            source_key=child(session_key, "node", node_id),
            session_source_key=session_key,
            user_handle=owner,
            seq=seq,
            role=role,
            content=text,
            created_at=created,
            metadata=meta,
        )


def _children(node: dict[str, Any]) -> list[str]:
    children = node.get("children")
    return [c for c in children if isinstance(c, str)] if isinstance(children, list) else []


def _tree_order(nodes: dict[str, dict[str, Any]]) -> Iterator[str]:
    """Node ids depth-first from the roots (children in listed order), then any leftovers."""
    seen: set[str] = set()
    roots = [k for k, n in nodes.items() if not isinstance(n.get("parent"), str)
             or n["parent"] not in nodes]  # fmt: skip
    for start in [*roots, *nodes]:
        stack = [start]
        while stack:
            node_id = stack.pop()
            if node_id in seen or node_id not in nodes:
                continue
            seen.add(node_id)
            yield node_id
            stack.extend(reversed(_children(nodes[node_id])))


__all__ = ["LAYOUTS", "files", "render", "scan", "walk"]
