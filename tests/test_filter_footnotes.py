"""filters/footnotes.py in-process: title-page symbol marks, stray carets, endnotes, citations."""

from __future__ import annotations

import subprocess
from pathlib import Path

import panflute as pf
import pytest

from bookbuild.config import resolve_csl
from bookbuild.filters import load_filter

from .conftest import pandoc_command, tool_env

FILTER = Path(__file__).resolve().parents[1] / "filters" / "footnotes.py"
CITATION_CASE = Path(__file__).resolve().parent / "golden" / "footnotes-caret"
footnotes = load_filter(FILTER)

TITLE_PAGE = """\
---
title: On Machine Learning Interviews
author:
- Zeeshan Hooda[^ucb][^sl]
- A. Coauthor[^ucb]
date: 27 November, 2023
---

[^ucb]: Department of EECS, UC Berkeley
[^sl]: Sparse Labs Inc.

# Machine Learning Jobs

The first body note^[Body note.] keeps its number.
"""

MANUSCRIPT_AUTHOR = """\
---
title: On Machine Learning Interviews
author: Zeeshan Hooda[^ucb][^sl]
---

[^ucb]: Department of EECS, UC Berkeley
[^sl]: Sparse Labs Inc.

Text.
"""

ENDNOTES = """\
---
footnotes: endnotes
---

<!-- bookbuild:chapter book/01.md -->

# One

First^[Note one.] and second^[Note two.].

<!-- bookbuild:chapter book/02.md -->

# Two

Third^[Note three.]^.
"""


def run(md: str, fmt: str = "latex") -> pf.Doc:
    doc = pf.convert_text(md, standalone=True)
    doc.format = fmt
    return footnotes.main(doc)


def render(md: str, fmt: str = "latex", extra: list[str] | None = None) -> str:
    return pf.convert_text(
        run(md, fmt),
        input_format="panflute",
        output_format=fmt,
        extra_args=["--wrap=none", "--top-level-division=chapter", *(extra or [])],
    )


def standalone(md: str, fmt: str = "latex") -> str:
    return render(md, fmt, ["--standalone", "-V", "documentclass=report"])


def test_affiliations_become_symbol_marks_shared_by_authors() -> None:
    out = standalone(TITLE_PAGE)
    assert (
        "\\author{Zeeshan Hooda\\bookbuildaffil{1}{Department of EECS, UC Berkeley}"
        "\\bookbuildaffil{2}{Sparse Labs Inc.} \\and A. Coauthor\\bookbuildaffilmark{1}}"
    ) in out
    assert out.count("Department of EECS") == 1
    assert out.count("Sparse Labs Inc.") == 1


def test_body_footnote_numbering_is_untouched() -> None:
    out = standalone(TITLE_PAGE)
    assert "The first body note\\footnote{Body note.} keeps its number." in out


def test_manuscript_author_with_two_notes() -> None:
    out = standalone(MANUSCRIPT_AUTHOR)
    assert (
        "\\author{Zeeshan Hooda\\bookbuildaffil{1}{Department of EECS, UC Berkeley}"
        "\\bookbuildaffil{2}{Sparse Labs Inc.}}"
    ) in out
    assert "pdfauthor={Zeeshan Hooda}" in out


def test_title_and_date_notes_are_numbered_in_title_page_order() -> None:
    md = "---\ntitle: Book[^a]\nauthor: Me[^b]\ndate: 2023[^a]\n---\n\n[^a]: Draft.\n[^b]: Lab.\n"
    out = standalone(md)
    assert "\\title{Book\\bookbuildaffil{1}{Draft.}}" in out
    assert "\\author{Me\\bookbuildaffil{2}{Lab.}}" in out
    assert "\\date{2023\\bookbuildaffilmark{1}}" in out


def test_preamble_uses_fnsymbol_and_leaves_the_footnote_counter_alone() -> None:
    out = standalone(TITLE_PAGE)
    assert "\\newcommand*{\\bookbuildaffilmark}[1]{\\textsuperscript{\\@fnsymbol{#1}}}" in out
    assert "\\footnotetext[#1]{#2}" in out
    assert "\\thanks" not in out


def test_no_preamble_without_title_page_notes() -> None:
    doc = run("---\ntitle: T\nauthor: A\n---\n\nText^[note].\n")
    assert "header-includes" not in doc.metadata.content


def test_too_many_title_page_notes_is_an_author_error() -> None:
    notes = "".join(f"[^n{i}]" for i in range(10))
    defs = "".join(f"[^n{i}]: Affiliation {i}.\n" for i in range(10))
    with pytest.raises(ValueError, match="more than 9 different notes in title, author or date"):
        run(f"---\nauthor: A{notes}\n---\n\n{defs}")


def test_html_affiliations_marks_and_list() -> None:
    out = standalone(TITLE_PAGE, "html")
    assert '<p class="author">Zeeshan Hooda<sup>*</sup><sup>†</sup></p>' in out
    assert '<p class="author">A. Coauthor<sup>*</sup></p>' in out
    assert (
        '<div class="affiliations">\n<p><sup>*</sup> Department of EECS, UC Berkeley</p>\n'
        "<p><sup>†</sup> Sparse Labs Inc.</p>\n</div>"
    ) in out
    assert "bookbuild" not in out
    assert "\\" not in out.split("<body>")[1]


def test_stray_caret_after_note_is_removed() -> None:
    out = render("See CS 329S for more differences^[@huyen:cs329s:2021]^\n")
    assert out == "See CS 329S for more differences\\footnote{@huyen:cs329s:2021}"


def test_stray_caret_before_punctuation_keeps_the_punctuation() -> None:
    assert render("A remark^[Note.]^, then more.\n") == "A remark\\footnote{Note.}, then more."


def test_superscript_wrapping_only_a_note_becomes_the_note() -> None:
    note = pf.Note(pf.Para(pf.Str("Note.")))
    doc = pf.Doc(pf.Para(pf.Str("word"), pf.Superscript(note)), format="latex")
    out = pf.convert_text(footnotes.main(doc), input_format="panflute", output_format="latex")
    assert out == "word\\footnote{Note.}"


def test_real_superscripts_are_untouched() -> None:
    assert render("The i^th^ element.\n") == "The i\\textsuperscript{th} element."


def test_note_with_only_a_citation_keeps_the_cite() -> None:
    doc = run("Differences^[@huyen:cs329s:2021]^\n")
    notes: list[pf.Note] = []
    doc.walk(lambda e, d: notes.append(e) if isinstance(e, pf.Note) else None)
    assert len(notes) == 1
    cite = notes[0].content[0].content[0]
    assert isinstance(cite, pf.Cite)
    assert cite.citations[0].id == "huyen:cs329s:2021"


def test_citation_note_is_processed_by_citeproc() -> None:
    md = (
        f"---\nbibliography: {CITATION_CASE / 'refs.bib'}\n"
        f"csl: {resolve_csl('ieee.csl', CITATION_CASE)}\n---\n\n"
        "More differences^[@huyen:cs329s:2021]^\n"
    )
    out = render(md, extra=["--citeproc"])
    assert out.startswith("More differences\\footnote{{[}1{]}}\n")
    assert "\\CSLLeftMargin{{[}1{]} }" in out
    assert "Machine learning systems design" in out


def test_endnotes_per_chapter() -> None:
    out = render(ENDNOTES)
    assert out == (
        "\\chapter{One}\\label{one}\n\n"
        "First\\textsuperscript{\\hyperref[bookbuild-endnote-1-1]{1}} and "
        "second\\textsuperscript{\\hyperref[bookbuild-endnote-1-2]{2}}.\n\n"
        "\\section*{Notes}\\label{bookbuild-endnotes-1}\n\n"
        "\\begin{enumerate}\n\\def\\labelenumi{\\arabic{enumi}.}\n"
        "\\item\n  \\protect\\phantomsection\\label{bookbuild-endnote-1-1}{}Note one.\n"
        "\\item\n  \\protect\\phantomsection\\label{bookbuild-endnote-1-2}{}Note two.\n"
        "\\end{enumerate}\n\n"
        "\\chapter{Two}\\label{two}\n\n"
        "Third\\textsuperscript{\\hyperref[bookbuild-endnote-2-1]{1}}.\n\n"
        "\\section*{Notes}\\label{bookbuild-endnotes-2}\n\n"
        "\\begin{enumerate}\n\\def\\labelenumi{\\arabic{enumi}.}\n"
        "\\item\n  \\protect\\phantomsection\\label{bookbuild-endnote-2-1}{}Note three.\n"
        "\\end{enumerate}"
    )


def test_endnotes_before_a_part_page() -> None:
    part = pf.Div(pf.Para(pf.Str("Part")), classes=["part"])
    doc = pf.Doc(
        pf.Header(pf.Str("One"), level=1),
        pf.Para(pf.Str("a"), pf.Note(pf.Para(pf.Str("n")))),
        part,
        metadata={"footnotes": pf.MetaString("endnotes")},
        format="latex",
    )
    doc = footnotes.main(doc)
    kinds = [type(b).__name__ for b in doc.content]
    assert kinds == ["Header", "Para", "Header", "OrderedList", "Div"]


def test_endnotes_html() -> None:
    out = render(ENDNOTES, "html")
    assert (
        'First<sup><a href="#bookbuild-endnote-1-1">1</a></sup> and '
        'second<sup><a href="#bookbuild-endnote-1-2">2</a></sup>.'
    ) in out
    assert '<h2 class="unnumbered unlisted" id="bookbuild-endnotes-1">Notes</h2>' in out
    assert '<li><p><span id="bookbuild-endnote-2-1"></span>Note three.</p></li>' in out
    assert "footnote-ref" not in out


def test_footnotes_true_keeps_page_footnotes() -> None:
    assert render("---\nfootnotes: true\n---\n\nText^[A note.].\n") == "Text\\footnote{A note.}."


def test_switch_off_leaves_the_document_alone() -> None:
    md = "---\nauthor: A[^x]\nfootnotes: false\n---\n\n[^x]: Lab.\n\nMore^[n]^\n"
    out = standalone(md)
    assert "\\author{A\\footnote{Lab.}}" in out
    assert "More\\footnote{n}\\^{}" in out
    assert "bookbuild" not in out


def test_bad_switch_value_is_an_author_error() -> None:
    with pytest.raises(ValueError, match="'footnotes' must be true, false or endnotes, not 'end'"):
        run("---\nfootnotes: end\n---\n\nText.\n")


def test_runs_as_a_pandoc_filter() -> None:
    proc = subprocess.run(
        [pandoc_command(), "--filter", str(FILTER), "-t", "latex", "--wrap=none"],
        env=tool_env(),
        input="More differences^[A note.]^\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout == "More differences\\footnote{A note.}\n"
