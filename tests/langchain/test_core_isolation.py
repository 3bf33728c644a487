"""`memvault[langchain]` is an extra: the core never imports LangChain, nor the adapters."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _modules_after(code: str) -> list[str]:
    probe = code + (
        "\nimport sys\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('langchain_core', 'langchain', 'langchain_tests', 'langsmith')"
        " or m.startswith('memvault.langchain')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return eval(out.stdout.strip().splitlines()[-1])  # a printed list of names


def test_the_core_and_the_cli_load_no_langchain(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    code = (
        "import memvault, memvault.cli, memvault.search.query, memvault.embed\n"
        f"v = memvault.open({url!r}, embed_memories=False)\n"
        "u = v.users.ensure('a'); v.memories.add(u.id, 'fact', 'x'); v.close()\n"
    )
    assert _modules_after(code) == []


def test_the_adapters_do_load_it() -> None:
    # The probe above would also print [] if it could not see LangChain at all.
    loaded = _modules_after("import memvault.langchain")
    assert "memvault.langchain" in loaded and "langchain_core" in loaded


def test_the_extra_names_langchain_core() -> None:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    extra = meta["project"]["optional-dependencies"]["langchain"]
    assert any(dep.startswith("langchain-core") for dep in extra)
