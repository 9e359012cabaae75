"""Chapter preview: numbered as in the book, citations as in the book, cross-references from
the full build; chapter selectors; the watch loop."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from bookbuild.books import load_config
from bookbuild.cli import cli
from bookbuild.preview import SelectionError, select_chapters, split_chapters
from bookbuild.stages.assemble import assemble
from bookbuild.stages.read import read_book

from .conftest import pdf_pages, processes_in, squash


@pytest.fixture
def book(book_in_cwd: Callable[[str], Path]) -> Path:
    return book_in_cwd("preview")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["pdf", "--book", "preview", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr


def text_of(pdf: Path) -> str:
    return squash(" ".join(pdf_pages(pdf)))


def citation_numbers(text: str) -> list[str]:
    """The citation numbers of chapter 3's sentence."""
    found = re.search(r"successor method \[(\d+)\] works, and so does delta \[(\d+)\]", text)
    assert found, text
    return list(found.groups())


# --------------------------------------------------------------------------- selectors


@pytest.fixture
def infos(book: Path):  # type: ignore[no-untyped-def]
    config = load_config(book / "book.yaml")
    chapters = assemble(config).chapters
    return split_chapters(read_book(config, chapters, None)[0], chapters)


def test_chapters_are_numbered_and_placed_in_parts(infos) -> None:  # type: ignore[no-untyped-def]
    numbered = [(i.number, i.stem, i.title, i.part) for i in infos if i.title]
    assert numbered == [
        (1, "foundations", "Foundations", "Part I: Theory"),
        (2, "methods", "Methods", "Part I: Theory"),
        (3, "applications", "Applications", "Part II: Practice"),
        (None, "references", "References", "Part II: Practice"),
    ]


@pytest.mark.parametrize("selector", ["3", "applications", "applications.md", "APPLIC"])
def test_selectors(infos, selector: str) -> None:  # type: ignore[no-untyped-def]
    assert [i.stem for i in select_chapters(infos, [selector])] == ["applications"]


def test_several_selectors_come_in_book_order(infos) -> None:  # type: ignore[no-untyped-def]
    chosen = select_chapters(infos, ["applications", "1"])
    assert [i.stem for i in chosen] == ["foundations", "applications"]


def test_unknown_selector_lists_the_chapters(infos) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SelectionError) as info:
        select_chapters(infos, ["nine"])
    assert info.value.diagnostics[0].message == (
        "no chapter matches 'nine'; chapters: 1 foundations (Foundations); 2 methods (Methods); "
        "3 applications (Applications); references (References)"
    )
    assert info.value.exit_code == 2


def test_ambiguous_selector_lists_the_matches(infos) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SelectionError) as info:
        select_chapters(infos, ["tion"])
    assert info.value.diagnostics[0].message == (
        "'tion' matches several chapters: 1 foundations (Foundations); "
        "3 applications (Applications)"
    )


def test_cli_selector_error_exit_code(book: Path) -> None:
    code, err = run("-q", "--chapter", "nine")
    assert code == 2
    assert err.startswith("error: no chapter matches 'nine'; chapters: 1 foundations")


# --------------------------------------------------------------------------- the preview PDF


@pytest.mark.latex
def test_preview_matches_the_full_book(book: Path) -> None:
    assert run("-q")[0] == 0
    full_pdf = Path("build/preview-book.pdf")
    full = text_of(full_pdf)
    before = full_pdf.read_bytes()
    code, err = run("--chapter", "3")
    assert code == 0, err
    preview_pdf = Path("build/preview/applications.pdf")
    preview = text_of(preview_pdf)
    assert "Chapter 3 Applications" in preview
    assert "3.1 Using Them" in preview
    assert "Part II: Practice" in preview  # the running head
    assert "As shown in sec. 1.1," in preview and "??" not in preview
    assert citation_numbers(preview) == citation_numbers(full) == ["2", "4"]
    references = preview[preview.index("References") :]
    assert "[2] B. Brown, Beta Methods." in references
    assert "[4] D. Davis, Delta Methods." in references
    assert "Alpha" not in references and "Gamma" not in references
    assert "A Book to Preview" not in preview and "Contents" not in preview
    assert full_pdf.read_bytes() == before
    assert "warning" not in err

    # after an edit: the engine loaded the last preview's preamble while the chapter was
    # typeset (stages/warm.py); the PDF is the edited chapter, numbered as in the book
    chapter = book / "applications.md"
    chapter.write_text(chapter.read_text() + "\nOne more sentence [@delta].\n")
    assert run("-q", "--chapter", "3") == (0, "")
    assert warm_pass(preview_pdf)
    edited = text_of(preview_pdf)
    assert preview in edited.replace(" One more sentence [4].", "")
    assert "Chapter 3 Applications" in edited and "One more sentence [4]." in edited
    assert all(row.split()[-5] == "yes" for row in pdf_fonts(preview_pdf))  # embedded

    # a chapter's first preview preloads another chapter's preamble (and keeps one pass)
    assert run("-q", "--chapter", "1") == (0, "")
    first = Path("build/preview/foundations.pdf")
    assert warm_pass(first)
    assert "Chapter 1 Foundations" in text_of(first)
    assert "[1]" in text_of(first) and "[2]" in text_of(first)
    assert processes_in(Path("build")) == []


def warm_pass(pdf: Path) -> bool:
    """True when the preview's pass got its body through a warm engine."""
    log = Path("build/preview/.work/xelatex") / pdf.stem / f"{pdf.stem}.log"
    return "bookbuild-body.ltx" in log.read_text(errors="replace")


def pdf_fonts(pdf: Path) -> list[str]:
    """pdffonts' rows (name type encoding emb sub uni object ID)."""
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    rows = out.stdout.splitlines()[2:]
    assert rows
    return rows


@pytest.mark.latex
def test_preview_without_full_build_warns_once(book: Path) -> None:
    result = CliRunner().invoke(cli, ["pdf", "--book", "preview", "--chapter", "applications"])
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert warnings == [
        "warning: no full build of the book yet: references to other chapters print as ?? "
        "(1 label(s)); run `bookbuild pdf` once"
    ]
    assert "sec. ??" in text_of(Path("build/preview/applications.pdf"))
    assert not Path("build/preview-book.pdf").exists()


@pytest.mark.latex
def test_preview_of_two_chapters(book: Path) -> None:
    code, err = run("-q", "--chapter", "methods", "--chapter", "foundations")
    assert code == 0, err
    text = text_of(Path("build/preview/foundations+methods.pdf"))
    assert text.index("Chapter 1 Foundations") < text.index("Chapter 2 Methods")
    assert "1.1 Core Ideas" in text and "2.1 Sampling Methods" in text


# --------------------------------------------------------------------------- watch


class Watcher:
    """`bookbuild watch` in a subprocess, its status lines read as they come."""

    def __init__(self, book: Path, *args: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bookbuild", "watch", "--book", str(book), *args],
            cwd=book.parent, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 60) -> str:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matching {pattern!r}; saw {self.seen}")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=30)


@pytest.mark.latex
def test_watch_rebuilds_recovers_and_stops_cleanly(book: Path) -> None:
    watcher = Watcher(book)
    try:
        watcher.wait_for(r"first build: OK")
        watcher.wait_for(r"^watching preview")
        time.sleep(1)  # the file watcher registers just after it says so
        chapter = book / "methods.md"
        chapter.write_text(chapter.read_text() + "\nA new sentence.\n")
        watcher.wait_for(r"preview/methods\.md changed: OK \d+\.\d\d s -> build/preview-book\.pdf")
        assert "A new sentence." in text_of(Path("build/preview-book.pdf"))
        chapter.write_text(chapter.read_text() + "\n\\brokenmacro\n")
        watcher.wait_for(r"^preview/methods\.md:\d+: error: Undefined control sequence")
        watcher.wait_for(r"methods\.md changed: failed .* \(still watching\)")
        chapter.write_text(chapter.read_text().replace("\\brokenmacro", "Fixed."))
        watcher.wait_for(r"methods\.md changed: OK")
        assert "Fixed." in text_of(Path("build/preview-book.pdf"))
    finally:
        code = watcher.stop()
    assert code == 0
    assert "stopped watching" in watcher.wait_for("stopped watching", timeout=10)
    assert processes_in(book.parent / "build") == []


@pytest.mark.latex
def test_watch_with_chapter_rebuilds_only_the_preview(book: Path) -> None:
    watcher = Watcher(book, "--chapter", "applications")
    try:
        watcher.wait_for(r"first build: OK .* build/preview/applications\.pdf")
        watcher.wait_for(r"^watching preview")
        time.sleep(1)
        chapter = book / "applications.md"
        chapter.write_text(chapter.read_text() + "\nWatched edit.\n")
        watcher.wait_for(r"applications\.md changed: OK .* build/preview/applications\.pdf")
    finally:
        assert watcher.stop() == 0
    assert "Watched edit." in text_of(Path("build/preview/applications.pdf"))
    assert not Path("build/preview-book.pdf").exists()
