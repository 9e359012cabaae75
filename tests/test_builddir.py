"""OSError at the edges of the build directory: one line naming the path and what to do,
exit 1, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from bookbuild.cli import cli


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert not isinstance(result.exception, OSError), result.exception
    return result.exit_code, result.output


def test_build_directory_that_is_a_file(book_in_cwd: Callable[[str], Path]) -> None:
    book = book_in_cwd("minimal")
    (book.parent / "build").write_text("not a folder\n")
    code, output = run("pdf", "--book", str(book), "-q")
    assert code == 1
    lines = output.strip().splitlines()
    assert lines == [
        "build: error: a file, not a folder; remove or rename it: the build needs a folder there"
    ]
    assert "Traceback" not in output


def test_output_below_a_file(book_in_cwd: Callable[[str], Path]) -> None:
    book = book_in_cwd("minimal")
    (book.parent / "notes").write_text("a file, not a folder\n")
    code, output = run("tex", "--book", str(book), "-q", "-o", "notes/book.tex")
    assert code == 1
    assert output.strip() == (
        "notes: error: a file, not a folder; remove or rename it: the build needs a folder there"
    )


def test_report_that_cannot_be_written(book_in_cwd: Callable[[str], Path]) -> None:
    book = book_in_cwd("minimal")
    (book.parent / "build").write_text("not a folder\n")
    code, output = run("pdf", "--book", str(book), "-q", "--json", "build/report.json")
    assert code == 1
    assert output.strip().splitlines()[-1] == (
        "build: error: a file, not a folder; remove or rename it: the build needs a folder there"
    )


def test_disk_full(book_in_cwd: Callable[[str], Path]) -> None:
    book = book_in_cwd("minimal")
    code, output = run("md", "--book", str(book), "-o", "/dev/full")
    assert code == 1
    assert output.strip() == (
        "/dev/full: error: No space left on device; the disk is full: free some space and "
        "build again"
    )
