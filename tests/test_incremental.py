"""Chapter rebuilds (bookbuild.incremental) write exactly the .tex a full build writes.

Each test edits a generated book (bench/gen_book.py: parts, citations, cross-references,
equations, tables and footnotes across chapters), builds with the cache, and compares the
.tex and the warnings with a build from scratch. No LaTeX runs here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bookbuild.books import load_config
from bookbuild.build import book_cache, make_latex
from bookbuild.cache import Cache
from bookbuild.config import BookConfig
from bookbuild.incremental import STATE_KIND, split_tex, state_key
from bookbuild.markers import TEX_MARK
from bookbuild.progress import Progress

REPO = Path(__file__).resolve().parents[1]
CHAPTER = "ch03-data-structures.md"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    command = [sys.executable, str(REPO / "bench" / "gen_book.py"), str(out), "--chapters", "6"]
    subprocess.run(command, check=True, capture_output=True)
    return out


@pytest.fixture
def book(generated: Path, tmp_path: Path) -> Path:
    """A fresh copy of the generated book; returns its book.yaml."""
    shutil.copytree(generated, tmp_path / "gen")
    return tmp_path / "gen" / "book" / "book.yaml"


def cached_build(config_path: Path) -> tuple[str, list[str], list[tuple]]:
    """The .tex, stage names and warnings of a build that uses (and updates) the cache."""
    config = load_config(config_path)
    progress = Progress(quiet=True)
    tex, warnings, _ = make_latex(config, progress, book_cache(config))
    return tex, [name for name, _ in progress.stages], _keys(warnings)


def scratch_build(config_path: Path) -> tuple[str, list[tuple]]:
    """The .tex and warnings of a build without any cache."""
    config = load_config(config_path)
    tex, warnings, _ = make_latex(config, Progress(quiet=True), None)
    return tex, _keys(warnings)


def _keys(warnings: list) -> list[tuple]:
    return sorted((w.file or "", w.line or 0, w.message) for w in warnings)


def edit(config_path: Path, name: str, change: Callable[[str], str]) -> None:
    path = config_path.parent / name
    before = path.read_text(encoding="utf-8")
    after = change(before)
    assert after != before
    path.write_text(after, encoding="utf-8")


def replace(old: str, new: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert text.count(old) == 1, old
        return text.replace(old, new)

    return change


def append(more: str) -> Callable[[str], str]:
    return lambda text: text + more


LOOSE = "Above definitions are loose."

#: An edit of chapter 3, and whether its LaTeX alone can be rewritten (True) or the whole
#: book has to be (False: numbers, ids or the preamble change elsewhere).
EDITS: dict[str, tuple[Callable[[str], str], bool]] = {
    "sentence appended": (append("\nOne more sentence, nothing else.\n"), True),
    "word changed": (replace("Make model accessible", "Make the model accessible"), True),
    "paragraph deleted": (
        replace("Interpretability (users and developers). May swap", "May"),
        True,
    ),
    "reference to another chapter": (replace(LOOSE, f"{LOOSE[:-1]}, see @sec:c05-1."), True),
    "citation added": (replace(LOOSE, f"{LOOSE[:-1]} [@huyen:cs329s:2021]."), False),
    "footnote added": (replace(LOOSE, f"{LOOSE}^[A new note.]"), False),
    "labelled section added": (append("\n## Added {#sec:added}\n\nText.\n"), False),
    "heading added": (append("\n## Added Heading\n\nText.\n"), False),
    "labelled equation added": (append("\n$$ x = y $$ {#eq:added}\n"), False),
    "table added": (append("\n| a | b |\n|---|---|\n| 1 | 2 |\n\n: A table {#tbl:added}\n"), False),
    "code block added": (append("\n```python\nprint('new package')\n```\n"), False),
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_a_rebuilt_chapter_is_written_as_a_full_build_writes_it(book: Path, name: str) -> None:
    first, first_stages, _ = cached_build(book)
    assert "read" in first_stages and "chapters" not in first_stages
    change, reusable = EDITS[name]
    edit(book, CHAPTER, change)
    tex, stages, warnings = cached_build(book)
    expected_tex, expected_warnings = scratch_build(book)
    assert tex == expected_tex
    assert warnings == expected_warnings
    assert tex != first
    assert ("chapters" in stages) is reusable, stages
    assert ("reuse" in stages) is not reusable


def test_edits_in_a_row_and_after_a_full_build_stay_right(book: Path) -> None:
    cached_build(book)
    for number in range(3):  # the second and third rewrite the chapter without its old text
        edit(book, CHAPTER, append(f"\nSentence number {number}.\n"))
        tex, stages, _ = cached_build(book)
        assert "chapters" in stages
        assert tex == scratch_build(book)[0]
    edit(book, CHAPTER, EDITS["citation added"][0])
    tex, stages, _ = cached_build(book)
    assert "reuse" in stages and tex == scratch_build(book)[0]
    edit(book, CHAPTER, append("\nAfter the full build.\n"))  # the full build left a state
    tex, stages, _ = cached_build(book)
    assert "chapters" in stages and tex == scratch_build(book)[0]


def test_two_chapters_edited_at_once(book: Path) -> None:
    cached_build(book)
    edit(book, CHAPTER, append("\nEdited chapter three.\n"))
    edit(book, "ch05-interviews-for-internships-vs-for-full-t.md", append("\nAnd five.\n"))
    tex, stages, _ = cached_build(book)
    assert "chapters" in stages
    assert tex == scratch_build(book)[0]


def test_many_chapters_edited_is_a_full_build(book: Path) -> None:
    cached_build(book)
    chapters = sorted(p.name for p in book.parent.glob("ch0*.md"))
    for name in chapters[:4]:
        edit(book, name, append("\nEdited.\n"))
    tex, stages, _ = cached_build(book)
    assert "reuse" in stages and "read" in stages
    assert tex == scratch_build(book)[0]


def test_a_warning_follows_its_chapter(book: Path) -> None:
    cached_build(book)
    edit(book, CHAPTER, append("\n[^never]: A note nobody uses.\n"))
    _, stages, warnings = cached_build(book)
    assert "chapters" in stages
    assert [w for w in warnings if "never" in w[2] and w[0].endswith(CHAPTER)]
    assert warnings == scratch_build(book)[1]
    edit(book, CHAPTER, replace("\n[^never]: A note nobody uses.\n", ""))
    _, stages, warnings = cached_build(book)
    assert "chapters" in stages and not [w for w in warnings if "never" in w[2]]


def test_nothing_but_the_pdf_gone_reuses_the_whole_tex(book: Path) -> None:
    first, _, _ = cached_build(book)
    tex, stages, _ = cached_build(book)
    assert stages == ["assemble", "chapters"] and tex == first


def test_the_title_page_and_the_config_are_full_builds(book: Path) -> None:
    cached_build(book)
    edit(book, "book.yaml", replace("title: On Machine", "title: About Machine"))
    tex, stages, _ = cached_build(book)
    assert "reuse" in stages and tex == scratch_build(book)[0]


def test_a_filter_without_incremental_is_a_full_build(book: Path) -> None:
    filters = book.parent / "filters"
    filters.mkdir()
    (filters / "noop.py").write_text(
        "import panflute as pf\n\n"
        "def main(doc=None):\n"
        "    return pf.run_filter(lambda e, d: None, doc=doc)\n"
    )
    edit(book, "book.yaml", append("  filters: [parts, footnotes, deflists, crossref, noop]\n"))
    cached_build(book)
    edit(book, CHAPTER, append("\nEdited.\n"))
    config = load_config(book)
    progress = Progress(quiet=True)
    make_latex(config, progress, book_cache(config))
    reasons = [name for name, _ in progress.stages]
    assert "reuse" in reasons and "read" in reasons


def test_a_corrupted_state_is_not_trusted(book: Path) -> None:
    cached_build(book)
    config: BookConfig = load_config(book)
    cache = book_cache(config)
    entry = cache._path(STATE_KIND, state_key(config))
    entry.write_text(entry.read_text()[:1000])  # half-written
    edit(book, CHAPTER, append("\nEdited.\n"))
    tex, stages, _ = cached_build(book)
    assert "read" in stages and tex == scratch_build(book)[0]
    assert Cache(cache.folder).get(STATE_KIND, state_key(config)) is not None  # written anew


def test_the_tex_splits_at_every_chapter(book: Path) -> None:
    tex, _, _ = cached_build(book)
    config = load_config(book)
    labels = [c.path.relative_to(config.source_root).as_posix() for c in config.chapters]
    split = split_tex(tex, labels)
    assert split is not None
    head, pieces, tail = split
    assert head + "".join(pieces) + tail == tex
    assert all(piece.startswith(TEX_MARK) for piece in pieces)
    assert "\\begin{document}" in head and tail.startswith("\\end{document}")


@pytest.mark.parametrize("name", ["sentence appended", "reference to another chapter"])
def test_a_note_style_book(book: Path, name: str) -> None:
    """With citations in notes, a citation's note number counts too."""
    edit(book, "book.yaml", replace("csl: ieee.csl", "csl: chicago-notes-bibliography.csl"))
    cached_build(book)
    edit(book, CHAPTER, EDITS[name][0])
    tex, stages, _ = cached_build(book)
    assert tex == scratch_build(book)[0]
    assert ("chapters" in stages) is (name == "sentence appended")


@pytest.mark.parametrize(
    "name", ["front-matter.md", "part-1.md", "ch01-how-other-people-did-it.md", "references.md"]
)
def test_a_paragraph_appended_to_any_kind_of_chapter(book: Path, name: str) -> None:
    """The title-page notes' chapter, a part page, the first chapter, and the last one (where
    the bibliography goes when the book has no ``::: {#refs}``)."""
    cached_build(book)
    edit(book, name, append(f"\n\nA paragraph appended to {name}.\n"))
    tex, stages, warnings = cached_build(book)
    assert "chapters" in stages
    assert f"A paragraph appended to {name}." in tex.replace("\n", " ")
    assert (tex, warnings) == scratch_build(book)


@pytest.mark.parametrize("edited", [CHAPTER, "ch05-interviews-for-internships-vs-for-full-t.md"])
def test_a_bibliography_placed_mid_book(book: Path, edited: str) -> None:
    """``::: {#refs}`` in chapter 3: its chapter holds every work cited anywhere."""
    edit(book, CHAPTER, append("\n## Works Cited\n\n::: {#refs}\n:::\n"))
    cached_build(book)
    edit(book, edited, append("\n\nOne more paragraph.\n"))
    tex, stages, _ = cached_build(book)
    assert "chapters" in stages
    assert tex == scratch_build(book)[0]
    assert tex.count("\\begin{CSLReferences}") == 1


def test_a_note_defined_in_another_chapter(book: Path) -> None:
    """Editing the note's definition rewrites the chapter that uses it too; dropping the
    use changes which notes chapters share: a full build (the defining chapter now warns)."""
    other = "ch05-interviews-for-internships-vs-for-full-t.md"
    edit(book, CHAPTER, replace(LOOSE, f"{LOOSE[:-1]}[^shared]."))
    edit(book, other, append("\n[^shared]: A note chapter five defines.\n"))
    cached_build(book)
    edit(book, other, replace("chapter five defines", "chapter five defines, edited"))
    tex, stages, warnings = cached_build(book)
    assert "chapters" in stages
    assert "\\footnote{A note chapter five defines, edited.}" in " ".join(tex.split())
    assert (tex, warnings) == scratch_build(book)
    edit(book, CHAPTER, replace(f"{LOOSE[:-1]}[^shared].", LOOSE))
    tex, stages, warnings = cached_build(book)
    assert "reuse" in stages
    assert [w for w in warnings if "shared" in w[2] and w[0].endswith(other)]
    assert (tex, warnings) == scratch_build(book)


def test_every_chapter_of_the_real_book_is_rebuilt_alone_and_right(real_book: Path) -> None:
    """The book's first user: a paragraph appended to each of its chapters in turn."""
    cached_build(real_book)
    names = [c.name for c in load_config(real_book).chapters]
    # Chapters that use glossary terms or send solutions to the appendix (and the glossary,
    # which holds that appendix's end) are full builds by design (filters/glossary.py,
    # filters/exercises.py); every other chapter is rebuilt alone.
    apparatus = re.compile(r"\{\.gls\b|\{\{|\{\.glossary\b|^::: solution", re.M)
    for name in names:
        alone = not apparatus.search((real_book.parent / name).read_text(encoding="utf-8"))
        edit(real_book, name, append(f"\n\nA paragraph appended to {name}.\n"))
        tex, stages, warnings = cached_build(real_book)
        assert ("chapters" in stages) == alone, name
        assert (tex, warnings) == scratch_build(real_book), name
