"""Every engine builds the minimal book: xelatex, pdflatex, lualatex (and Tectonic if present)."""

from __future__ import annotations

import shutil

import pytest

from bookbuild.books import load_config
from bookbuild.build import build
from bookbuild.config import with_engine
from bookbuild.progress import Progress

from .conftest import pdf_pages, squash

pytestmark = pytest.mark.latex


@pytest.mark.parametrize(
    "engine",
    [
        "xelatex",
        "pdflatex",
        "lualatex",
        pytest.param(
            "tectonic",
            marks=pytest.mark.skipif(shutil.which("tectonic") is None, reason="no tectonic"),
        ),
    ],
)
def test_engine_builds_minimal_book(engine: str, copy_book) -> None:
    config = with_engine(load_config(copy_book("minimal")), engine)
    result = build(config, progress=Progress(quiet=True))
    text = squash(" ".join(pdf_pages(result.pdf)))
    assert "A Minimal Book" in text
    assert "1 First Chapter" in text and "1.1 A Section" in text
    assert "citing a book [1]" in text
    assert "[1] D. E. Knuth, The TeXbook. Addison-Wesley, 1984." in text
    assert "The footnote text." in text
    assert result.passes and all(p.seconds >= 0 for p in result.passes)
    assert (config.build_dir / f".{engine}").is_dir()


def test_cold_build_of_a_book_with_contents_takes_one_pass(copy_book) -> None:
    """Front matter in roman numerals: chapter page numbers do not move when the contents
    appear, so the contents are typeset at the end of one pass and moved into place
    (bookbuild.stages.onepass; tests/test_onepass.py compares it with two passes)."""
    config = load_config(copy_book("minimal"))
    result = build(config, progress=Progress(quiet=True))
    assert [p.rule for p in result.passes] == ["xelatex", "contents"]
    pages = pdf_pages(result.pdf)
    contents = next(p for p in pages if "Contents" in p)
    assert "1 First Chapter" in squash(contents)
    tex = next(config.build_dir.glob(".xelatex/*.tex")).read_text()
    assert "\\AtBeginDocument{\\pagenumbering{roman}}" in tex
    assert "\\clearpage\\pagenumbering{arabic}" in tex


@pytest.mark.parametrize("engine", ["xelatex", "pdflatex", "lualatex"])
def test_every_filter_with_every_engine(engine: str, copy_book) -> None:
    config = with_engine(load_config(copy_book("filters")), engine)
    result = build(config, progress=Progress(quiet=True))
    pages = pdf_pages(result.pdf)
    assert "Ada Author∗" in squash(pages[0]) or "Ada Author*" in squash(pages[0])
    assert "Institute of Filters" in squash(pages[0])
    part_page = next(squash(p) for p in pages if "Groundwork" in p and "Contents" not in p)
    assert "Part I" in part_page and "This intro text belongs on the part page." in part_page
    text = squash(" ".join(pages))
    assert "Systems building distributed systems" in text
    assert "stray carets1" in text and "^" not in text
    assert "see sec. 1" in text and "??" not in text
    assert 'print("hello")' in text
    tex = next(config.build_dir.glob(f".{engine}/*.tex")).read_text()
    assert "\\item[{Systems}]" in tex and "\\begin{bookbuilddeflist}" in tex


def test_an_edit_that_moves_no_page_number_takes_one_pass(copy_book, monkeypatch) -> None:
    monkeypatch.setenv("BOOKBUILD_NO_SPLICE", "1")  # the pass loop (test_splice.py: splices)
    config = load_config(copy_book("minimal"))
    build(config, progress=Progress(quiet=True))
    chapter = config.book_dir / "two.md"
    chapter.write_text(chapter.read_text().replace("Closing words", "Changed closing words"))
    progress = Progress(quiet=True)
    result = build(config, progress=progress)
    assert [p.rule for p in result.passes] == ["xelatex"]
    assert "chapters" in [name for name, _ in progress.stages]
    assert "Changed closing words" in squash(" ".join(pdf_pages(result.pdf)))


def test_a_new_chapter_heading_reruns_until_the_contents_settle(copy_book) -> None:
    config = load_config(copy_book("minimal"))
    build(config, progress=Progress(quiet=True))
    chapter = config.book_dir / "two.md"
    chapter.write_text(chapter.read_text() + "\n# An Added Chapter\n\nWords.\n")
    result = build(config, progress=Progress(quiet=True))
    assert [p.rule for p in result.passes] == ["xelatex", "xelatex"]
    contents = next(p for p in pdf_pages(result.pdf) if "Contents" in p)
    assert "3 An Added Chapter" in squash(contents)


def test_a_failed_pass_leaves_the_aux_files_as_they_were(copy_book, monkeypatch) -> None:
    from bookbuild.errors import LatexError

    monkeypatch.setenv("BOOKBUILD_NO_SPLICE", "1")  # the pass loop (test_splice.py: splices)
    config = load_config(copy_book("minimal"))
    build(config, progress=Progress(quiet=True))
    workdir = config.build_dir / ".xelatex"
    aux_before = {p.name: p.read_bytes() for p in workdir.glob("*.aux")} | {
        p.name: p.read_bytes() for p in workdir.glob("*.toc")
    }
    chapter = config.book_dir / "two.md"
    good = chapter.read_text()
    chapter.write_text(good + "\n\\undefinedcommandhere\n")
    with pytest.raises(LatexError) as failure:
        build(config, progress=Progress(quiet=True))
    error = failure.value.diagnostics[0]  # the chapter rebuild keeps the source lines
    assert error.file and error.file.endswith("two.md")
    assert error.line == len(good.splitlines()) + 2
    for name, data in aux_before.items():
        assert (workdir / name).read_bytes() == data, name
    chapter.write_text(good.replace("Closing words", "Fixed closing words"))
    result = build(config, progress=Progress(quiet=True))
    assert [p.rule for p in result.passes] == ["xelatex"]
    assert "Fixed closing words" in squash(" ".join(pdf_pages(result.pdf)))


def test_a_document_that_never_settles_stops_at_the_pass_limit_with_a_warning(
    copy_book,
) -> None:
    """Each pass writes the count of passes into the .aux: it never settles. (The cold
    one-pass attempt sees an .aux line it does not know: it counts as the loop's first of
    five passes.)"""
    config = load_config(copy_book("minimal"))
    chapter = config.book_dir / "two.md"
    counting = r"""
```{=latex}
\makeatletter
\ifdefined\bbpasses\else\gdef\bbpasses{0}\fi
\immediate\write\@auxout{\gdef\string\bbpasses{\the\numexpr\bbpasses+1\relax}}
\makeatother
```
"""
    chapter.write_text(chapter.read_text() + counting)
    progress = Progress(quiet=True)
    result = build(config, progress=progress)
    assert [p.rule for p in result.passes] == ["xelatex"] * 5
    assert any("after 5 passes" in w.message for w in progress.warnings)
