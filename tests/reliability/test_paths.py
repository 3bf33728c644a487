"""Path traversal in backup, restore, import, export and report paths: `../`, absolute paths,
symlinks pointing outside and NUL bytes are refused, and nothing is written outside."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import memvault
from memvault.admin import restore
from memvault.migrate import export_lilith, export_store, import_source
from tests.migrate.legacy_data import write_langchain
from tests.reliability.conftest import report


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


@pytest.fixture
def jail(tmp_path: Path) -> tuple[Path, Path]:
    """(root, outside): the allowed folder and a sibling that must stay untouched."""
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "escape").symlink_to(outside, target_is_directory=True)
    return root, outside


def hostile(root: Path, outside: Path, name: str) -> list[str]:
    return [
        f"../outside/{name}",
        str(outside / name),
        f"escape/{name}",  # a symlink inside the root that points outside
        f"ok/../../outside/{name}",
        f"{name}\x00.txt",
    ]


def test_store_paths_are_confined(jail: tuple[Path, Path]) -> None:
    root, outside = jail
    refused = 0
    with memvault.open(root / "vault.db", files_root=root) as vault:
        user = vault.users.create("alice")
        vault.memories.add(user.id, "fact", "kept")
        legacy = write_langchain(root / "legacy")
        for path in hostile(root, outside, "backup.db"):
            with pytest.raises(memvault.InvalidInput, match="path"):
                vault.backup(path)
            refused += 1
        for path in hostile(root, outside, "dump.ndjson"):
            with pytest.raises(memvault.InvalidInput, match="out"):
                export_store(vault, path)
            refused += 1
        for path in hostile(root, outside, "report.json"):
            with pytest.raises(memvault.InvalidInput, match="report"):
                import_source(vault, legacy, format="langchain", report=path, backup=False)
            refused += 1
        for path in hostile(root, outside, ""):
            with pytest.raises(memvault.InvalidInput, match="source"):
                import_source(vault, path, format="langchain", backup=False)
            refused += 1
        good = vault.backup("backups-ok.db")  # relative paths land inside the root
        assert Path(good.path).parent == root
    (outside / "stolen.db").write_bytes(Path(good.path).read_bytes())
    for path in hostile(root, outside, "stolen.db"):
        with pytest.raises(memvault.InvalidInput, match="backup"):
            restore(path, str(root / "restored.db"), files_root=root)
        refused += 1
    assert _files(outside) == {outside / "stolen.db"}  # nothing else was written outside
    report("path traversal", refused=refused, written_outside=0)


def test_stored_file_names_cannot_lead_an_export_out(tmp_path: Path) -> None:
    """A legacy file name kept in metadata (imported data is untrusted) stays inside the
    export folder, with or without a files root."""
    out = tmp_path / "export"
    with memvault.open(tmp_path / "v.db") as vault:
        vault.patterns.add(None, "greet", "hello", "hi!", teacher=True,
                           metadata={"file": "../../evil.json"})  # fmt: skip
        with pytest.raises(memvault.InvalidInput, match=r"metadata\.file"):
            export_lilith(vault, out)
    assert not (tmp_path / "evil.json").exists()
    assert not (tmp_path.parent / "evil.json").exists()


def test_writing_through_a_symlink_is_refused_even_without_a_root(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("do not overwrite")
    link = tmp_path / "link.db"
    link.symlink_to(target)
    with memvault.open(tmp_path / "v.db") as vault, pytest.raises(memvault.InvalidInput):
        vault.backup(link, overwrite=True)
    assert target.read_text() == "do not overwrite"


MEMVAULT = shutil.which("memvault", path=os.path.dirname(sys.executable)) or "memvault"


def test_cli_honours_the_files_root(jail: tuple[Path, Path]) -> None:
    root, outside = jail
    env = {**os.environ, "MEMVAULT_FILES_ROOT": str(root)}
    db = f"sqlite:///{root / 'cli.db'}"
    assert subprocess.run([MEMVAULT, "init", "--db", db], env=env, capture_output=True,
                          timeout=60).returncode == 0  # fmt: skip
    for path in hostile(root, outside, "b.db")[:4]:
        out = subprocess.run([MEMVAULT, "backup", path, "--db", db], env=env,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
        assert out.returncode == 1
        assert "outside the allowed folder" in out.stderr or "symbolic link" in out.stderr
        assert "Traceback" not in out.stderr
    assert _files(outside) == set()
