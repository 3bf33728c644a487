"""`/docs`: the REST API's reference as one HTML page, rendered on the server from the
service's own OpenAPI schema (the one `/openapi.json` serves), so it cannot drift from the code.

The page is self-contained: no script, no external asset (FastAPI's Swagger page loads its
scripts from a CDN, which a service on an offline machine cannot reach). Every text from the
schema is HTML-escaped. Like `/openapi.json` it needs no key: it holds no data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer"}  # fmt: skip
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 70rem; margin: 2rem auto;
       padding: 0 1rem; }
code, .path { font-family: ui-monospace, monospace; }
.op { border-top: 1px solid #ccc; padding-top: .5rem; margin-top: 1.5rem; }
.method { font-weight: bold; text-transform: uppercase; margin-right: .5rem; }
.deprecated { text-decoration: line-through; }
table { border-collapse: collapse; margin: .3rem 0 .8rem; }
th, td { text-align: left; vertical-align: top; padding: .2rem .6rem;
         border-bottom: 1px solid #eee; }
nav li { font-family: ui-monospace, monospace; }
td p { margin: 0; }
"""


def _text(value: Any) -> str:
    return escape(str(value), quote=True)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _prose(value: Any) -> str:
    """A description as paragraphs: a blank line parts them; line breaks inside one do not."""
    paragraphs = [" ".join(p.split()) for p in str(value).split("\n\n")]
    return "".join(f"<p>{_text(p)}</p>" for p in paragraphs if p)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _resolve(schema: dict[str, Any], node: Any) -> Any:
    """`node` with a top-level `$ref` (to `#/components/schemas/…`) replaced by its target."""
    if isinstance(node, dict) and "$ref" in node:
        target = schema.get("components", {}).get("schemas", {}).get(_ref_name(node["$ref"]))
        return target if isinstance(target, dict) else {}
    return node


def type_of(node: Any) -> str:
    """A short type for a JSON schema: `string`, `integer | null`, `array of Memory`, …"""
    if not isinstance(node, dict):
        return ""
    if "$ref" in node:
        return _ref_name(node["$ref"])
    for key in ("anyOf", "oneOf"):
        if key in node:
            return " | ".join(dict.fromkeys(type_of(n) for n in node[key]))
    if "enum" in node:
        return "one of " + ", ".join(_json(v) for v in node["enum"])
    if "const" in node:
        return _json(node["const"])
    kind = node.get("type", "any")
    if kind == "array":
        return f"array of {type_of(node.get('items', {}))}"
    fmt = node.get("format")
    return f"{kind} ({fmt})" if fmt else str(kind)


def _table(head: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    """An HTML table; the cells are already escaped."""
    if not rows:
        return "<p>None.</p>"
    cells = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    heads = "".join(f"<th>{_text(h)}</th>" for h in head)
    return f"<table><tr>{heads}</tr>{cells}</table>"


def _parameters(op: dict[str, Any]) -> str:
    rows = []
    for p in op.get("parameters", []):
        note = " (deprecated)" if p.get("deprecated") else ""
        rows.append((
            f"<code>{_text(p.get('name', ''))}</code>", _text(p.get("in", "")),
            _text(type_of(p.get("schema", {}))), "yes" if p.get("required") else "no",
            _prose(p.get("description", "")) + note,
        ))  # fmt: skip
    return _table(("name", "in", "type", "required", "description"), rows)


def _body(schema: dict[str, Any], op: dict[str, Any]) -> str:
    content = op.get("requestBody", {}).get("content", {})
    if not content:
        return "<p>None.</p>"
    media, spec = next(iter(content.items()))
    node = spec.get("schema", {})
    model = _resolve(schema, node)
    named = f" ({_text(_ref_name(node['$ref']))})" if "$ref" in node else ""
    required = set(model.get("required", []))
    rows = []
    for name, prop in model.get("properties", {}).items():
        default = f"<code>{_text(_json(prop['default']))}</code>" if "default" in prop else ""
        rows.append((
            f"<code>{_text(name)}</code>", _text(type_of(prop)),
            "yes" if name in required else "no", default,
            _prose(prop.get("description", "")),
        ))  # fmt: skip
    head = f"<p><code>{_text(media)}</code>{named}</p>"
    if not rows:
        return head + f"<p>{_text(type_of(model))}</p>"
    return head + _table(("field", "type", "required", "default", "description"), rows)


def _responses(op: dict[str, Any]) -> str:
    rows = []
    for code, answer in op.get("responses", {}).items():
        shapes = [type_of(s.get("schema", {})) for s in answer.get("content", {}).values()]
        rows.append((
            f"<code>{_text(code)}</code>", _text(answer.get("description", "")),
            _text(", ".join(s for s in shapes if s)),
        ))  # fmt: skip
    return _table(("status", "description", "body"), rows)


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (method, path, operation) of the schema, in its order."""
    return [
        (method, path, op)
        for path, ops in schema.get("paths", {}).items()
        for method, op in ops.items()
        if method in METHODS and isinstance(op, dict)
    ]


def _anchor(method: str, path: str) -> str:
    return _text(f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""))


def _operation(schema: dict[str, Any], method: str, path: str, op: dict[str, Any]) -> str:
    title = f'<span class="method">{_text(method)}</span><span class="path">{_text(path)}</span>'
    cls = "op deprecated" if op.get("deprecated") else "op"
    return (
        f'<section class="{cls}" id="{_anchor(method, path)}"><h2>{title}</h2>'
        f"<p><strong>{_text(op.get('summary', ''))}</strong></p>"
        f"{_prose(op.get('description', ''))}"
        f"<h3>Parameters</h3>{_parameters(op)}"
        f"<h3>Request body</h3>{_body(schema, op)}"
        f"<h3>Responses</h3>{_responses(op)}</section>"
    )


def render(schema: dict[str, Any]) -> str:
    """The reference page for an OpenAPI `schema`: a contents list, then every operation
    with its method, path, summary and description, parameters, body fields and responses."""
    info = schema.get("info", {})
    title = f"{info.get('title', 'API')} {info.get('version', '')}".strip()
    ops = operations(schema)
    toc = "".join(
        f'<li><a href="#{_anchor(m, p)}">{_text(m.upper())} {_text(p)}</a></li>' for m, p, _ in ops
    )
    body = "".join(_operation(schema, m, p, op) for m, p, op in ops)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_text(title)} — REST API</title><style>{STYLE}</style></head><body>"
        f"<h1>{_text(title)} — REST API</h1>"
        f"{_prose(info.get('description', ''))}"
        '<p>The machine-readable schema: <a href="openapi.json">/openapi.json</a>.</p>'
        f"<nav><h2>Operations</h2><ul>{toc}</ul></nav>{body}</body></html>"
    )


def mount(app: FastAPI, path: str = "/docs") -> None:
    """Serve `render(app.openapi())` at `path` (kept out of the schema; rendered once)."""
    page: list[str] = []

    @app.get(path, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        if not page:
            page.append(render(app.openapi()))
        return HTMLResponse(page[0], headers=HEADERS)
