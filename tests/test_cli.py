"""The command line: help, exit codes, tex/md output, safety of the previous PDF."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bookbuild.books import load_config
from bookbuild.builddir import work_dir
from bookbuild.cli import cli
from bookbuild.stages import splice

from .conftest import REPO, pdf_pages, squash


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_help_lists_commands_and_exit_codes() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for command in ("pdf", "tex", "md"):
        assert re.search(rf"^\s+{command}\s", out, re.M), command
    for line in (
        "0  ok",
        "1  build failed",
        "2  usage error",
        "3  configuration invalid",
        "4  engine or tool missing",
        "5  warnings under --strict",
    ):
        assert line in out


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    for name, command in cli.commands.items():
        code, out, _ = run(name, "--help")
        assert code == 0 and "Example:" in out, name
        assert f"bookbuild {name}" in readme, f"README does not show `bookbuild {name}`"
        assert command.help


def test_usage_error_is_exit_2() -> None:
    code, _, err = run("pdf", "--engine", "troff")
    assert code == 2
    assert "Invalid value for '--engine'" in err


def test_config_error_is_exit_3_with_one_line_per_problem(tmp_path: Path) -> None:
    (tmp_path / "book.yaml").write_text("chapters: [missing.md]\nbuild: {filters: []}\n")
    code, out, err = run("pdf", "--book", str(tmp_path))
    assert code == 3
    assert out == ""
    assert err.strip().splitlines() == [
        f"{tmp_path / 'book.yaml'}:1: error: chapter 'missing.md' not found in {tmp_path}/"
    ]
    assert not (tmp_path.parent / "build").exists()


def test_missing_engine_is_exit_4_naming_debian_packages(copy_book, tmp_path: Path) -> None:
    config = copy_book("minimal")
    empty = tmp_path / "empty-path"
    empty.mkdir()
    code, _, err = run("pdf", "--book", str(config.parent), "-q", env={"PATH": str(empty)})
    assert code == 4
    assert "error: xelatex not found: install TeX Live: apt-get install" in err
    assert "texlive-xetex" in err
    code, _, err = run(
        "pdf", "--book", str(config.parent), "--engine", "tectonic", env={"PATH": str(empty)}
    )
    assert code == 4 and "tectonic not found on PATH" in err


def test_md_writes_the_assembled_book(copy_book, tmp_path: Path) -> None:
    config = copy_book("minimal")
    out_file = tmp_path / "out" / "book.md"
    code, _, _ = run("md", "--book", str(config), "-o", str(out_file))
    assert code == 0
    text = out_file.read_text()
    assert text.startswith("---\ntitle: A Minimal Book\n")
    assert text.index("# First Chapter") < text.index("# Second Chapter")
    assert "<!-- bookbuild:chapter minimal/one.md -->" in text


@pytest.mark.latex
def test_pdf_then_tex_is_exactly_what_was_compiled(copy_book, tmp_path: Path) -> None:
    config_path = copy_book("minimal")
    code, _, err = run("pdf", "--book", str(config_path))
    assert code == 0, err
    for stage in ("assemble", "read", "filters", "latex", "xelatex", "done"):
        assert re.search(rf"^  {stage}\s+\d+\.\d\d s", err, re.M), stage
    assert re.search(r"^  xelatex\s+\d+\.\d\d s  pass 1$", err, re.M)
    config = load_config(config_path)
    compiled = (work_dir(config) / "minimal.tex").read_text()
    code, out, _ = run("tex", "--book", str(config_path))
    assert code == 0
    # xelatex compiles it with the splice's chapter checkpoints (same lines; stages/splice.py)
    assert splice.instrument(out) == compiled
    assert len(compiled.splitlines()) == len(out.splitlines())
    pages = pdf_pages(config.pdf_path)
    assert "First Chapter" in squash(" ".join(pages))


@pytest.mark.latex
def test_quiet_prints_nothing_and_book_defaults_to_nearest(
    copy_book, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path = copy_book("minimal")
    book_dir = tmp_path / "project" / "book"
    book_dir.parent.mkdir()
    config_path.parent.rename(book_dir)
    (tmp_path / "project" / "notes").mkdir()
    monkeypatch.chdir(tmp_path / "project" / "notes")
    code, out, err = run("pdf", "-q")
    assert (code, out, err) == (0, "", "")
    assert (tmp_path / "project" / "build" / "minimal.pdf").is_file()


@pytest.mark.latex
def test_failed_build_keeps_previous_pdf_and_sources(copy_book) -> None:
    config_path = copy_book("minimal")
    code, _, err = run("pdf", "--book", str(config_path), "-q")
    assert code == 0, err
    pdf = load_config(config_path).pdf_path
    good = pdf.read_bytes()
    chapter = config_path.parent / "two.md"
    chapter.write_text(chapter.read_text() + "\n\\undefinedmacro\n")
    sources = tree_digest(config_path.parent)
    code, _, err = run("pdf", "--book", str(config_path), "-q")
    assert code == 1
    assert "Undefined control sequence" in err
    assert pdf.read_bytes() == good
    assert tree_digest(config_path.parent) == sources
    assert not [p for p in pdf.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.latex
def test_build_does_not_modify_sources(copy_book) -> None:
    config_path = copy_book("minimal")
    before = tree_digest(config_path.parent)
    mtimes = {p: p.stat().st_mtime_ns for p in config_path.parent.iterdir()}
    code, _, err = run("pdf", "--book", str(config_path), "-q")
    assert code == 0, err
    assert tree_digest(config_path.parent) == before
    assert {p: p.stat().st_mtime_ns for p in config_path.parent.iterdir()} == mtimes
    assert os.listdir(config_path.parent) == os.listdir(config_path.parent)


def test_readme_documents_every_config_key() -> None:
    from bookbuild.config import documented_keys

    readme = (REPO / "README.md").read_text()
    for key, _ in documented_keys():
        assert f"| `{key}` |" in readme, key
