"""Shared fixtures: copies of books in temp dirs, PDF text per page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BOOKS = REPO / "tests" / "books"
SEED = REPO.parent / "shared" / "seed" / "000_82ec46375032ada7.txt"

# The filter tests import filters by path; filters import their shared helpers from their
# own folder, as they do when pandoc or bookbuild runs them.
if str(REPO / "filters") not in sys.path:
    sys.path.append(str(REPO / "filters"))


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page, as a reader sees it (pdftotext -layout)."""
    out = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = out.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def processes_in(folder: Path) -> list[str]:
    """Command lines of the processes whose working directory lies in ``folder`` (the
    engines a build started there), ignoring this test process: other builds running on
    the machine at the same time do not count."""
    found = []
    root = folder.resolve()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cwd = Path(os.readlink(proc / "cwd"))
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        if cwd.is_relative_to(root) and command:
            found.append(command)
    return found


def squash(text: str) -> str:
    """Collapse runs of white space, so text checks do not depend on line breaks."""
    return " ".join(text.split())


def unhyphenate(text: str) -> str:
    """Join words LaTeX hyphenated at a line end ("Uni-\nversity" -> "University")."""
    return re.sub(r"(\w)-\n\s*(\w)", r"\1\2", text)


@pytest.fixture
def real_book(tmp_path: Path) -> Path:
    """A copy of the repository's book/ (with latex/) in a temp dir; returns book.yaml."""
    shutil.copytree(REPO / "book", tmp_path / "book")
    shutil.copytree(REPO / "latex", tmp_path / "latex")
    return tmp_path / "book" / "book.yaml"


@pytest.fixture
def copy_book(tmp_path: Path) -> Callable[[str], Path]:
    """Copy tests/books/<name> into a temp dir; returns its book.yaml."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(BOOKS / name, target)
        return target / "book.yaml"

    return copy


@pytest.fixture
def book_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    """Copy tests/books/<name> into a temp working directory, so messages read ``name/…``;
    returns the book's folder."""
    monkeypatch.chdir(tmp_path)

    def copy(name: str) -> Path:
        shutil.copytree(BOOKS / name, tmp_path / name)
        return tmp_path / name

    return copy


@pytest.fixture(scope="session")
def built_real_book(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The real book built once per test session: its PDF pages and its LaTeX."""
    from bookbuild.books import load_config
    from bookbuild.build import build
    from bookbuild.builddir import work_dir
    from bookbuild.progress import Progress

    root = tmp_path_factory.mktemp("realbook")
    shutil.copytree(REPO / "book", root / "book")
    shutil.copytree(REPO / "latex", root / "latex")
    config = load_config(root / "book" / "book.yaml")
    result = build(config, progress=Progress(quiet=True))
    tex = next(work_dir(config).glob("*.tex")).read_text()
    return {
        "pdf": result.pdf,
        "pages": pdf_pages(result.pdf),
        "tex": tex,
        "root": root,
        "warnings": result.warnings,
        "passes": [p.rule for p in result.passes],
    }


@pytest.fixture(autouse=True, scope="session")
def _pandoc_for_panflute() -> None:
    """Tests call panflute's convert_text, which finds pandoc on PATH only: point it at
    pypandoc-binary's, as bookbuild does."""
    from bookbuild.pandoc import point_panflute_at_pandoc

    point_panflute_at_pandoc()


def pandoc_command() -> str:
    """pypandoc-binary's pandoc (tests run pandoc themselves to check standalone filters)."""
    from bookbuild.pandoc import pandoc_path

    return pandoc_path()


def tool_env() -> dict[str, str]:
    """Environment for running ``pandoc --filter``: this Python (with panflute) and pandoc
    first on PATH, as `make` arranges with .venv/bin."""
    import os
    import sys

    path = os.pathsep.join(
        [str(Path(sys.executable).parent), str(Path(pandoc_command()).parent), os.environ["PATH"]]
    )
    return {**os.environ, "PATH": path}
