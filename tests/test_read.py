"""Chapters are read one by one, yet a note or a reference link may be defined in another
chapter, as when pandoc reads the assembled book in one go."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.books import load_config
from bookbuild.build import build, make_latex
from bookbuild.config import Chapter
from bookbuild.progress import Progress
from bookbuild.stages.assemble import ChapterText
from bookbuild.stages.read import texts_as_read

from .conftest import pdf_pages, squash

USES = "# A\n\nUses a note defined later.[^later]\n\nAnd a link to [the site][Site].\n"
DEFINES = (
    "# B\n\nText.\n\n[^later]: The note text from chapter B.\n\n"
    '[site]: https://example.com/site\n    "The Site"\n'
)


def chapters(*texts: str) -> list[ChapterText]:
    return [
        ChapterText(Chapter(Path(f"/book/{n}.md"), f"{n}.md", n + 1), f"book/{n}.md", text)
        for n, text in enumerate(texts)
    ]


def test_a_chapter_is_read_with_the_definitions_it_borrows() -> None:
    texts, lent = texts_as_read(chapters(USES, DEFINES))
    assert texts[0].startswith(USES)
    assert "[^later]: The note text from chapter B." in texts[0]
    assert '[site]: https://example.com/site\n    "The Site"' in texts[0]
    assert texts[1] == DEFINES  # uses nothing from elsewhere
    assert lent == {"later"}


def test_a_chapter_keeps_its_own_definition_and_the_first_one_wins() -> None:
    own = "Mine[^n].\n\n[^n]: my own.\n"
    first, second = "[^n]: first elsewhere.\n", "[^n]: second elsewhere.\n"
    texts, lent = texts_as_read(chapters(first, own, second, "Borrowing[^n].\n"))
    assert texts[1] == own
    assert "first elsewhere" in texts[3] and "second elsewhere" not in texts[3]
    assert lent == {"n"}


def test_nothing_borrowed_leaves_the_text_alone() -> None:
    text = "No notes [not a link] and [^undefined].\n"
    assert texts_as_read(chapters(text)) == ([text], set())


def book(tmp_path: Path) -> Path:
    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "book.yaml").write_text(
        "chapters:\n  - a.md\n  - b.md\nmetadata:\n  title: Notes Across Chapters\n"
    )
    (folder / "a.md").write_text(USES)
    (folder / "b.md").write_text(DEFINES)
    return folder / "book.yaml"


def test_the_latex_has_the_note_and_the_link_and_no_warning(tmp_path: Path) -> None:
    tex, warnings, _ = make_latex(load_config(book(tmp_path)), Progress(quiet=True))
    assert "\\footnote{The note text from chapter B.}" in tex
    assert "\\href{https://example.com/site}{the site}" in tex
    assert "[^later]" not in tex and "[Site]" not in tex
    assert warnings == []


@pytest.mark.latex
def test_the_pdf_shows_the_note_on_the_page_that_uses_it(tmp_path: Path) -> None:
    result = build(load_config(book(tmp_path)), progress=Progress(quiet=True))
    pages = [squash(page) for page in pdf_pages(result.pdf)]
    page = next(p for p in pages if "Uses a note defined later" in p)
    assert "later.1" in page and "1 The note text from chapter B." in page
    assert "And a link to the site." in page
