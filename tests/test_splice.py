"""A chapter edit typeset alone and spliced into the last PDF (bookbuild.stages.splice) gives
the book a full build gives.

One book (tests/books/preview: two parts, contents, citations, a reference into another
chapter) is built once; then edits follow one another, each built as ``pdf`` builds it and
compared with the engine's plain loop (two passes) run on the same .tex in a fresh folder:
same pages, the same text on each, contents lines naming the page of their heading, links
and bookmarks resolving to the same pages, ``qpdf --check`` clean. Each test also asserts
which path the build took, so a splice that silently never happens fails.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path
from typing import Any

import pytest

from bookbuild import build as build_module
from bookbuild.books import load_config
from bookbuild.build import build
from bookbuild.errors import LatexError
from bookbuild.progress import Progress
from bookbuild.stages import compile as compile_stage
from bookbuild.stages import splice

from .conftest import BOOKS, pdf_pages, squash
from .test_onepass import plain_two_pass, same_book, workdir_tex

SPLICED = ["chapter", "splice"]


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("splice")
    shutil.copytree(BOOKS / "preview", root / "preview")
    config = load_config(root / "preview" / "book.yaml")
    build(config, progress=Progress(quiet=True))
    return {"root": root, "config": config, "edits": 0}


def edit(book: dict[str, Any], chapter: str, addition: str) -> Any:
    """Append ``addition`` to ``chapter`` and build; return the build's result (the build's
    progress, whose stages the --json report lists, in ``book["progress"]``)."""
    path = book["config"].book_dir / chapter
    path.write_text(path.read_text() + addition)
    book["progress"] = Progress(quiet=True)
    return build(book["config"], progress=book["progress"])


def full_build_of_same_tex(book: dict[str, Any]) -> Path:
    book["edits"] += 1
    config = book["config"]
    return plain_two_pass(workdir_tex(config), config, book["root"] / f"plain-{book['edits']}")


def engine_stages(book: dict[str, Any]) -> list[str]:
    """The engine's stages of the last build, as the --json report lists them."""
    names = [name for name, _ in book["progress"].stages]
    return [name for name in names if name in ("chapter", "splice", "xelatex", "contents")]


@pytest.mark.parametrize(
    "chapter, addition",
    [
        ("methods.md", "\n\nA sentence added to the middle chapter, see @sec:core.\n"),
        ("part-one.md", "\n\nThe first part, edited once more.\n"),
        ("references.md", "\n\nThe works this book cites, edited.\n"),
    ],
    ids=["middle-chapter", "first-chapter", "last-chapter"],
)
def test_a_chapter_edit_is_spliced_and_is_the_full_book(
    book: dict[str, Any], chapter: str, addition: str
) -> None:
    pages = len(pdf_pages(book["config"].pdf_path))
    result = edit(book, chapter, addition)
    assert engine_stages(book) == SPLICED
    assert [p.rule for p in result.passes] == SPLICED
    assert result.pages == pages == len(pdf_pages(result.pdf))
    text = squash(" ".join(pdf_pages(result.pdf)))
    assert squash(addition.replace("@sec:core", "sec. 1.1")) in text
    same_book(result.pdf, full_build_of_same_tex(book))


def test_a_chapter_that_grows_by_a_page_takes_the_full_pass(book: dict[str, Any]) -> None:
    before = len(pdf_pages(book["config"].pdf_path))
    result = edit(book, "foundations.md", "\n\n" + "A sentence that fills the page. " * 300)
    assert engine_stages(book) == ["chapter", "xelatex", "xelatex"]
    assert len(pdf_pages(result.pdf)) > before
    same_book(result.pdf, full_build_of_same_tex(book))
    # What the full pass left is a good start for the next splice.
    result = edit(book, "applications.md", "\n\nThe last chapter with text, edited.\n")
    assert engine_stages(book) == SPLICED
    same_book(result.pdf, full_build_of_same_tex(book))


def test_a_killed_or_interrupted_chapter_job_leaves_the_last_pdf(
    book: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = book["config"]
    good = config.pdf_path.read_bytes()
    run = compile_stage.WarmJob.run

    def killed(self: compile_stage.WarmJob, body: str) -> int:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)  # the engine started early, killed
        self.proc.wait()
        return run(self, body)

    monkeypatch.setattr(compile_stage.WarmJob, "run", killed)
    with pytest.raises(LatexError):
        edit(book, "methods.md", "\n\nA sentence the interrupted build never printed.\n")
    assert config.pdf_path.read_bytes() == good
    # Ctrl-C in a chapter job started when the edit is known.
    run_once = compile_stage._run_once

    def interrupted(command: list[str], workdir: Path, *args: Any) -> int:
        if workdir.name == splice.JOB_DIR:
            raise KeyboardInterrupt
        return run_once(command, workdir, *args)

    monkeypatch.setattr(build_module, "warm_job", lambda *args: None)
    monkeypatch.setattr(compile_stage, "_run_once", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build(config, progress=Progress(quiet=True))
    assert config.pdf_path.read_bytes() == good
    monkeypatch.undo()
    result = build(config, progress=Progress(quiet=True))  # the same edit, built again
    assert [p.rule for p in result.passes] == SPLICED
    assert "interrupted build never printed" in squash(" ".join(pdf_pages(result.pdf)))


def test_an_error_in_the_chapter_job_names_the_line_and_leaves_the_last_pdf(
    book: dict[str, Any],
) -> None:
    config = book["config"]
    good = config.pdf_path.read_bytes()
    chapter = config.book_dir / "methods.md"
    lines = len(chapter.read_text().splitlines())
    with pytest.raises(LatexError) as failure:
        edit(book, "methods.md", "\n\\undefinedcommandhere\n")
    error = failure.value.diagnostics[0]
    assert error.file and error.file.endswith("methods.md")
    assert error.line == lines + 2
    assert "undefined" in error.message.lower()
    assert splice.JOB_DIR in str(failure.value.log_path)  # the chapter job's log
    assert config.pdf_path.read_bytes() == good


def test_checkpoints_keep_the_lines_of_the_tex() -> None:
    tex = "\n".join(
        [
            "\\documentclass{report}",
            "\\begin{document}",
            "% bookbuild:chapter a.md",
            "% bookbuild:src a.md:1",
            "\\chapter{A}",
            "% bookbuild:chapter b.md",
            "",
            "Text that runs on from chapter A.",
            "% bookbuild:chapter c.md",
            "\\part{C}",
            "\\end{document}",
        ]
    )
    written = splice.instrument(tex)
    lines = written.split("\n")
    assert len(lines) == len(tex.split("\n"))
    assert lines[1].startswith("\\begin{document}\\makeatletter")
    assert lines[2] == "\\bbsplicecheckpoint{c0}% bookbuild:chapter a.md"
    assert lines[5] == "% bookbuild:chapter b.md"  # b does not start a page: no checkpoint
    assert lines[8] == "\\bbsplicecheckpoint{c2}% bookbuild:chapter c.md"
    assert lines[10] == "\\bbsplicecheckpoint{end}\\end{document}"
    aux = (
        "\\relax\n%bookbuild-splice c0;2;1;page=3,chapter=0,;3|bbsp|1|bbsp|chapter.1|bbsp|A\n"
        "\\newlabel{a}{{1}{3}}\n"
        "%bookbuild-splice end;9;4;page=10,chapter=2,;10|bbsp||bbsp||bbsp|\n"
    )
    points, written_after = splice.checkpoints(aux)
    assert points["c0"].counter("page") == 3 and points["end"].shipped == 9
    assert points["c0"].labels == ["1", "chapter.1", "A"] and points["c0"].thepage == "3"
    assert written_after["c0"] == ["\\newlabel{a}{{1}{3}}"]
