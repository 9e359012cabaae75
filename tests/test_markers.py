"""The markers bookbuild leaves in a document: written and read by one module, and the
filters' reader of the chapter marker held to it."""

from __future__ import annotations

import panflute as pf
import pytest
from _filterlib import chapter_label, source_place

from bookbuild import markers

LABELS = ["book/ml-jobs.md", "book/part 2/a chapter.md", "bücher/глава-1.md", "a/b/c/d/e.md"]


@pytest.mark.parametrize("label", LABELS)
def test_the_filters_read_the_chapter_marker_bookbuild_writes(label: str) -> None:
    block = pf.RawBlock(markers.chapter_marker(label), format="html")
    assert chapter_label(block) == label
    assert markers.panflute_label(block) == label
    assert markers.json_label(markers.marker_block(label)) == label


@pytest.mark.parametrize(
    "block",
    [
        pf.RawBlock("<!-- a comment -->", format="html"),
        pf.RawBlock(markers.chapter_marker("book/a.md"), format="latex"),
        pf.RawBlock(markers.tex_mark("book/a.md"), format="latex"),
        pf.Para(pf.Str("bookbuild:chapter")),
    ],
)
def test_other_blocks_are_no_chapter_marker(block: pf.Block) -> None:
    assert chapter_label(block) is None
    assert markers.panflute_label(block) is None


def test_the_splitter_cuts_at_the_named_chapters_only() -> None:
    blocks = [
        {"t": "Para", "c": []},  # before any chapter: belongs to none
        markers.marker_block("book/a.md"),
        {"t": "Header", "c": [1, ["a", [], []], []]},
        markers.marker_block("book/unknown.md"),  # not a chapter asked for: stays a block
        markers.marker_block("book/b.md"),
        {"t": "Para", "c": [{"t": "Str", "c": "b"}]},
    ]
    chapters = markers.split_at_chapters(blocks, markers.json_label, ["book/a.md", "book/b.md"])
    assert [label for label, _ in chapters] == ["book/a.md", "book/b.md"]
    assert chapters[0][1] == [blocks[2], blocks[3]]
    assert chapters[1][1] == [blocks[5]]


def test_a_source_marker_gives_back_its_file_and_line() -> None:
    text = markers.src_marker("book/sub dir/x:y.md", 262)
    assert text.startswith("% ")  # a LaTeX comment: it prints nothing
    assert markers.src_place(text) == ("book/sub dir/x:y.md", 262)
    assert markers.src_place("% some other comment") is None
    assert source_place(pf.RawBlock(text, format="latex")) == ("book/sub dir/x:y.md", 262)
    assert source_place(pf.RawBlock("% some other comment", format="latex")) is None


def test_the_crossref_filter_numbers_kinds_bookbuild_knows() -> None:
    """bookbuild's own patterns (check, preview) know every kind the filter numbers;
    listings (``lst``) are checked and previewed, not numbered by the filter."""
    import crossref

    from bookbuild.syntax import CROSSREF_KINDS

    assert set(CROSSREF_KINDS) - set(crossref.KINDS) == {"lst"}
    for kind in crossref.KINDS:
        assert crossref.REF_ID.match(f"{kind.capitalize()}:x")
        assert crossref.LABEL_ID.match(f"{kind}:x")


@pytest.mark.parametrize("label", LABELS)
def test_the_filters_read_the_source_marker_bookbuild_writes(label: str) -> None:
    block = pf.RawBlock(markers.src_marker(label, 262), format="latex")
    assert source_place(block) == (label, 262) == markers.src_place(block.text)
    assert source_place(pf.RawBlock(markers.tex_mark(label), format="latex")) is None
    assert source_place(pf.RawBlock(markers.src_marker(label, 1), format="html")) is None
