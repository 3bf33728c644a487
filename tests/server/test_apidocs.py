"""`/docs`: the REST reference rendered on the server from the service's own OpenAPI schema,
served like `/openapi.json` without a key, with no script and no external asset."""

from __future__ import annotations

import re
from html import escape
from typing import Any

from memvault.server.apidocs import operations, render
from tests.server.conftest import Served

EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//|url\(|@import""", re.I)


def sections(page: str) -> dict[str, str]:
    """Each operation's section of the page by its heading's method and path."""
    found = {}
    for part in page.split('<section class="op')[1:]:
        head = re.search(
            r'<span class="method">(\w+)</span><span class="path">([^<]*)</span>', part
        )
        assert head is not None, part[:200]
        found[f"{head[1].upper()} {head[2]}"] = part
    return found


def body_fields(schema: dict[str, Any], op: dict[str, Any]) -> list[str]:
    content = op.get("requestBody", {}).get("content", {})
    node = next(iter(content.values()), {}).get("schema", {})
    if "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return list(node.get("properties", {}))


def test_the_page_documents_every_operation_of_the_served_schema(served_sqlite: Served) -> None:
    with served_sqlite.client() as c:  # no key, as for /openapi.json
        schema = c.get("/openapi.json").json()
        r = c.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text
    assert "script-src" not in r.headers["content-security-policy"]  # default-src 'none'
    page = r.text
    found = sections(page)
    expected = [f"{m.upper()} {escape(p)}" for m, p, _ in operations(schema)]
    assert sorted(found) == sorted(expected) and len(expected) > 50
    assert all(escape(path) in page for path in schema["paths"])
    for method, path, op in operations(schema):
        part = found[f"{method.upper()} {escape(path)}"]
        for name in [p["name"] for p in op.get("parameters", [])] + body_fields(schema, op):
            assert f"<code>{escape(name)}</code>" in part, (method, path, name)
        for code in op["responses"]:
            assert f"<code>{code}</code>" in part, (method, path, code)
        assert escape(op.get("summary", ""), quote=True) in part
    post = found["POST /api/memories"]
    assert "<code>base</code>" in post and "<code>kind</code>" in post and "MemoryIn" in post
    assert "<script" not in page.lower() and EXTERNAL.search(page) is None


def test_every_text_from_the_schema_is_escaped() -> None:
    evil = "<script>alert(1)</script>"
    schema = {
        "info": {"title": evil, "version": "1", "description": evil},
        "paths": {f"/x/{evil}": {"post": {
            "summary": evil, "description": evil,
            "parameters": [{"name": evil, "in": "query", "description": evil,
                            "schema": {"enum": [evil]}}],
            "requestBody": {"content": {"application/json": {"schema": {
                "properties": {evil: {"type": "string", "default": evil, "description": evil}},
            }}}},
            "responses": {"200": {"description": evil}},
        }}},
    }  # fmt: skip
    page = render(schema)
    assert "<script" not in page.lower() and EXTERNAL.search(page) is None
    assert page.count("&lt;script&gt;") >= 10
