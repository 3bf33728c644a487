"""The user query language, parsed once and rendered for FTS5 or PostgreSQL `tsquery`.

    ecole primaire          both words (AND is implicit)
    "école primaire"        a phrase
    prim*                   a prefix
    chat OR chien           either (also `|`)
    chat -chien, chat NOT chien
    (chat OR chien) maison  grouping

Words are reduced to their letters and digits, so nothing a user types reaches the engine's
own query syntax: the rendered query contains only operators written here and `[^\\W_]+`
tokens. A malformed query (unbalanced quote or parenthesis, dangling operator, only negated
terms) raises `InvalidInput` naming the query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from memvault.errors import InvalidInput

WORD = re.compile(r"[^\W_]+")
MAX_QUERY = 2000
MAX_TERMS = 64


@dataclass(frozen=True, slots=True)
class Term:
    tokens: tuple[str, ...]  # one token, or several read as a phrase ("l'école")
    prefix: bool = False
    phrase: bool = False


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


Node = Term | And | Or | Not


def tokens_of(text: str) -> tuple[str, ...]:
    return tuple(t.lower() for t in WORD.findall(text))


_LEX = re.compile(r'\s+|"[^"]*"?|\(|\)|\||[^\s()"|]+')


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.items: list[str] = [t for t in _LEX.findall(query) if t and not t.isspace()]
        self.pos = 0
        self.terms = 0

    def error(self, reason: str) -> InvalidInput:
        return InvalidInput("query", self.query, reason)

    def peek(self) -> str | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self) -> str:
        item = self.items[self.pos]
        self.pos += 1
        return item

    def parse(self) -> Node | None:
        if not self.items:
            return None
        node = self.or_expr()
        if self.peek() is not None:
            tok = self.peek()
            raise self.error("unbalanced ')'" if tok == ")" else f"unexpected {tok!r}")
        return node

    def or_expr(self) -> Node | None:
        parts = [self.and_expr()]
        while self.peek() in ("OR", "|"):
            op = self.take()
            if self.peek() in (None, ")", "OR", "|", "AND"):
                raise self.error(f"{op} needs a term on its right")
            parts.append(self.and_expr())
        kept = [p for p in parts if p is not None]
        if len(parts) > 1 and len(kept) < len(parts):
            # `foo OR ???`: a side with no searchable word matches nothing
            pass
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else Or(tuple(kept))

    def and_expr(self) -> Node | None:
        parts: list[Node] = []
        first = True
        while True:
            tok = self.peek()
            if tok is None or tok in (")", "OR", "|"):
                if first and tok in ("OR", "|"):
                    raise self.error(f"{tok} needs a term on its left")
                break
            if tok == "AND":
                self.take()
                if first or self.peek() in (None, ")", "OR", "|", "AND"):
                    raise self.error("AND needs a term on each side")
                continue
            node = self.unary()
            first = False
            if node is not None:
                parts.append(node)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self) -> Node | None:
        tok = self.peek()
        if tok == "NOT":
            self.take()
            if self.peek() in (None, ")", "OR", "|", "AND"):
                raise self.error("NOT needs a term on its right")
            inner = self.unary()
            return None if inner is None else Not(inner)
        if tok is not None and tok.startswith("-") and len(tok) > 1:
            self.items[self.pos] = tok[1:]
            inner = self.unary()
            return None if inner is None else Not(inner)
        return self.primary()

    def primary(self) -> Node | None:
        tok = self.take()
        if tok == "(":
            node = self.or_expr()
            if self.peek() != ")":
                raise self.error("unbalanced '(': a ')' is missing")
            self.take()
            return node
        if tok.startswith('"'):
            if len(tok) < 2 or not tok.endswith('"'):
                raise self.error("unbalanced '\"': a closing quote is missing")
            words = tokens_of(tok[1:-1])
            prefix = self.peek() == "*"
            if prefix:
                self.take()
            return self.term(words, prefix=prefix, phrase=True)
        prefix = tok.endswith("*")
        return self.term(tokens_of(tok), prefix=prefix)

    def term(self, words: tuple[str, ...], *, prefix: bool, phrase: bool = False) -> Term | None:
        if not words:
            return None
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise self.error(f"more than {MAX_TERMS} terms")
        return Term(words, prefix, phrase or len(words) > 1)


def _check(node: Node, query: str) -> None:
    """Refuse what an index cannot answer: a negation with no positive term beside it."""
    if isinstance(node, Not):
        raise InvalidInput("query", query, "NOT (or -) needs a positive term beside it")
    if isinstance(node, Or):
        for item in node.items:
            _check(item, query)
    if isinstance(node, And):
        positives = [i for i in node.items if not isinstance(i, Not)]
        if not positives:
            raise InvalidInput("query", query, "NOT (or -) needs a positive term beside it")
        for item in node.items:
            _check(item.item if isinstance(item, Not) else item, query)


def parse(query: str) -> Node | None:
    """The query's tree; None when it holds no searchable word (it then matches nothing)."""
    if not isinstance(query, str):
        raise InvalidInput("query", query, "expected a string")
    if len(query) > MAX_QUERY:
        raise InvalidInput("query", query, f"longer than {MAX_QUERY} characters")
    if "\x00" in query:
        raise InvalidInput("query", query, "contains a NUL byte")
    node = _Parser(query).parse()
    if node is not None:
        _check(node, query)
    return node


def to_fts5(node: Node, columns: str) -> str:
    """FTS5 MATCH text; every phrase restricted to `columns` (e.g. `{content context}`)."""
    if isinstance(node, Term):
        text = '"' + " ".join(node.tokens) + '"'
        return f"{columns} : {text}" + (" *" if node.prefix else "")
    if isinstance(node, Or):
        return "(" + " OR ".join(to_fts5(i, columns) for i in node.items) + ")"
    if isinstance(node, And):
        pos = [to_fts5(i, columns) for i in node.items if not isinstance(i, Not)]
        neg = [to_fts5(i.item, columns) for i in node.items if isinstance(i, Not)]
        out = "(" + " AND ".join(pos) + ")"
        for n in neg:
            out = f"({out} NOT {n})"
        return out
    raise AssertionError("a bare NOT is refused by parse()")


def to_tsquery(node: Node) -> str:
    """PostgreSQL `to_tsquery('simple', …)` text (before accent folding)."""
    if isinstance(node, Term):
        out = " <-> ".join(node.tokens)
        if node.prefix:
            out += ":*"
        return f"({out})" if len(node.tokens) > 1 else out
    if isinstance(node, Or):
        return "(" + " | ".join(to_tsquery(i) for i in node.items) + ")"
    if isinstance(node, And):
        parts = [
            f"!{to_tsquery(i.item)}" if isinstance(i, Not) else to_tsquery(i) for i in node.items
        ]
        return "(" + " & ".join(parts) + ")"
    return f"!{to_tsquery(node.item)}"


def plain_words(node: Node | None) -> list[str]:
    """The positive words of a query (for embedding a query with operators stripped)."""
    if node is None:
        return []
    if isinstance(node, Term):
        return list(node.tokens)
    if isinstance(node, Not):
        return []
    out: list[str] = []
    for item in node.items:
        out += plain_words(item)
    return out
