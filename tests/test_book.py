"""End-to-end: the real book/ builds, and its PDF reads as the printed edition should."""

from __future__ import annotations

import re

import pytest

from .conftest import squash, unhyphenate

pytestmark = pytest.mark.latex

CHAPTERS = [
    "Machine Learning Jobs",
    "Machine Learning Interview Process",
    "After an Offer",
    "Where to Start",
    "Math",
    "Computer Science",
    "Machine Learning Workflows",
    "Machine Learning Algorithms",
]


def toc_text(pages: list[str]) -> str:
    start = next(i for i, page in enumerate(pages) if page.strip().startswith("Contents"))
    end = start + 1
    while end < len(pages) and ". . ." in pages[end]:
        end += 1
    return squash(" ".join(pages[start:end]))


def test_title_page(built_real_book: dict) -> None:
    title_page = squash(built_real_book["pages"][0])
    assert "On Machine Learning Interviews" in title_page
    assert "Zeeshan Hooda" in title_page
    assert "27th November, 2023" in title_page
    assert "University of California, Berkeley" in title_page  # the institute


def test_abstract(built_real_book: dict) -> None:
    text = squash(" ".join(built_real_book["pages"][:3]))
    assert "Abstract" in text
    assert "A collection of notes, learnings, exercises, and solutions" in text
    assert "Copyright ©2023 Sparse Labs Inc., All Rights Reserved." in text


def test_table_of_contents_lists_parts_and_chapters(built_real_book: dict) -> None:
    toc = toc_text(built_real_book["pages"])
    assert re.search(r"\bI Overview \d+", toc), toc
    assert re.search(r"\bII Questions \d+", toc), toc
    for number, title in enumerate(CHAPTERS, start=1):
        assert re.search(rf"\b{number} {re.escape(title)} \d+", toc), f"{number} {title}"
    assert "1.1.2.1 Research vs Applied Research" in toc


def test_sections_are_numbered_to_depth_four(built_real_book: dict) -> None:
    body = squash(" ".join(built_real_book["pages"]))
    assert "Chapter 1 Machine Learning Jobs" in body
    assert "1.1.2.1 Research vs Applied Research" in body
    assert "8.1.1 Basic Algorithms" in body
    assert "Notation" in body and "5.1 Notation" not in body  # {-} stays unnumbered


def test_citations_and_reference_list(built_real_book: dict) -> None:
    pages = built_real_book["pages"]
    body = squash(" ".join(pages))
    assert "Machine Learning Interviews[1]" in body
    assert "[2]" in body
    # the reference list is the last chapter; only the index follows it
    last = [squash(unhyphenate(p)) for p in pages if squash(p).startswith("References")][-1]
    assert pages.index(next(p for p in pages if squash(unhyphenate(p)) == last)) >= len(pages) - 2
    references = last
    ref_list = references[references.index("[1]") :]
    assert ref_list.startswith("[1] C. Huyen, Introduction to Machine Learning Interviews.")
    assert "[2] C. Huyen, “CS 329S: Machine Learning Systems Design, Lecture 1.”" in ref_list
    assert "Stanford University" in ref_list


def test_no_raw_markup_leaks(built_real_book: dict) -> None:
    text = " ".join(built_real_book["pages"])
    for raw in (
        "[@",
        "\\part",
        "\\rightarrow",
        "$^{",
        "{.part}",
        "bookbuild:chapter",
        "{{",
        "{.index",
    ):
        assert raw not in text, raw
    assert "“Data Analyst” → “Data Scientist”" in squash(text)


def test_page_count(built_real_book: dict) -> None:
    assert len(built_real_book["pages"]) >= 20


def test_latex_has_the_books_layout(built_real_book: dict) -> None:
    tex = squash(built_real_book["tex"])
    assert "\\documentclass[ 12pt, openany]{report}" in tex
    assert "\\usepackage[margin=1in]{geometry}" in tex
    assert "\\setcounter{secnumdepth}{4}" in tex
    assert "\\setcounter{tocdepth}{4}" in tex
    assert "\\usepackage{siunitx}" in tex and "\\usepackage{quoting}" in tex
    assert "\\tableofcontents" in tex
    assert "colorlinks=true" in tex


def test_no_pandoc_or_citeproc_warnings(built_real_book: dict) -> None:
    assert built_real_book["warnings"] == []


# --------------------------------------------------------------------------- the filters


def page_with_line(pages: list[str], line: str) -> int:
    """Index of the page holding ``line`` as a whole line (so "Part I" is not "Part II")."""
    return next(
        i for i, page in enumerate(pages) if line in (ln.strip() for ln in page.splitlines())
    )


@pytest.mark.parametrize(
    ("part", "title", "intro"),
    [
        ("Part I", "Overview", "This part of the book provides an overview"),
        ("Part II", "Questions", "This part of the book contains over 200 knowledge questions"),
    ],
)
def test_part_page_holds_its_intro(
    built_real_book: dict, part: str, title: str, intro: str
) -> None:
    pages = built_real_book["pages"]
    index = page_with_line(pages, part)
    page = squash(pages[index])
    assert title in page and intro in page, page
    # the page after the part page starts the next chapter, not the intro
    assert intro not in squash(pages[index + 1])
    assert squash(pages[index + 1]).startswith("Chapter")


def test_title_page_affiliations_are_symbol_marks(built_real_book: dict) -> None:
    pages = built_real_book["pages"]
    title_page = squash(pages[0])
    assert "Zeeshan Hooda∗†" in title_page
    assert "∗ Department of EECS, UC Berkeley" in title_page
    assert "† Sparse Labs Inc." in title_page
    assert sum("Department of EECS" in page for page in pages) == 1


def test_inline_note_in_stray_carets_is_just_a_mark(built_real_book: dict) -> None:
    pages = built_real_book["pages"]
    index = next(i for i, p in enumerate(pages) if "more differences" in p)
    assert "See CS 329S, Lecture 1 for more differences1" in squash(pages[index])
    assert "^" not in pages[index]
    assert "1 [2]" in squash(pages[index])  # the body's first footnote is 1: the citation


def test_skills_list_is_a_description_list(built_real_book: dict) -> None:
    tex = built_real_book["tex"]
    start = tex.rindex("\\begin{bookbuilddeflist}", 0, tex.index("\\item[{Systems}]"))
    block = tex[start : tex.index("\\end{bookbuilddeflist}", start)]
    terms = ["Systems", "Databases", "ML", "Algorithms", "Statistics", "SME", "Production"]
    assert [t for t in terms if f"\\item[{{{t}}}]" in block] == terms
    assert "\\textbf{Systems:}" not in tex


def test_callout_is_a_titled_box(built_real_book: dict) -> None:
    tex = built_real_book["tex"]
    assert "tcolorbox" in tex and "Not every role needs ML" in tex
    text = squash(" ".join(built_real_book["pages"]))
    assert "Note: Not every role needs ML" in text
    assert "Many technical roles in the ML ecosystem" in text
    assert ":::" not in text
