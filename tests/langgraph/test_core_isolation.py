"""The memvault core never imports LangGraph or LangChain: only `memvault.langgraph` and
`memvault.langchain` do."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import memvault

SRC = Path(memvault.__file__).parent
ADAPTERS = ("langgraph", "langchain")  # packages of memvault allowed to import them
FOREIGN = ("langgraph", "langchain_core", "langchain")
IMPORT = re.compile(r"^\s*(?:from|import)\s+(langgraph|langchain\w*)\b", re.MULTILINE)


def test_no_module_outside_the_adapters_imports_langgraph_or_langchain() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC)
        if relative.parts[0] in ADAPTERS:
            continue
        if IMPORT.search(path.read_text(encoding="utf-8")):
            offenders.append(str(relative))
    assert offenders == []


def test_using_a_vault_and_the_cli_loads_no_langgraph(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    code = (
        "import sys, memvault, memvault.cli, memvault.admin, memvault.migrate.export\n"
        f"v = memvault.open({url!r})\n"
        "u = v.users.ensure('a'); v.export_user(u.id); v.erase_user(u.id); v.stats(); v.close()\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FOREIGN!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
