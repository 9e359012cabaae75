"""filters/parts.py in-process: part headings, legacy raw parts, intro on the part page."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import panflute as pf
import pytest

from bookbuild.filters import load_filter
from bookbuild.pandoc import json_metadata

from .conftest import pandoc_command, tool_env

FILTER = Path(__file__).resolve().parents[1] / "filters" / "parts.py"
parts = load_filter(FILTER)

BOOK = """\
<!-- bookbuild:chapter book/00-overview.md -->

# Overview {.part}

This part of the book provides an overview.

<!-- bookbuild:chapter book/01-jobs.md -->

# Machine Learning Jobs

Text.
"""


def run(md: str, fmt: str = "latex", warnings: list[str] | None = None) -> pf.Doc:
    doc = pf.convert_text(md, standalone=True)
    doc.format = fmt
    if warnings is not None:
        doc.bookbuild_warnings = warnings
    return parts.main(doc)


def render(md: str, fmt: str = "latex") -> str:
    doc = run(md, fmt)
    return pf.convert_text(
        doc,
        input_format="panflute",
        output_format=fmt,
        extra_args=["--wrap=none", "--top-level-division=chapter"],
    )


def _raw_blocks(value: pf.MetaValue) -> list[pf.RawBlock]:
    found: list[pf.RawBlock] = []
    value.walk(lambda e, d: found.append(e) if isinstance(e, pf.RawBlock) else None)
    return found


def test_part_heading_keeps_intro_on_the_part_page() -> None:
    assert render(BOOK) == (
        "\\bookbuildpartpage\n"
        "\\part{Overview}\\label{overview}\n\n"
        "This part of the book provides an overview.\n\n"
        "\\bookbuildpartpageend\n\n"
        "\\chapter{Machine Learning Jobs}\\label{machine-learning-jobs}\n\n"
        "Text."
    )


def test_chapter_marker_stays_outside_the_part() -> None:
    doc = run(BOOK)
    part = next(b for b in doc.content if isinstance(b, pf.Div) and "part" in b.classes)
    assert not any(
        isinstance(b, pf.RawBlock) and "bookbuild:chapter" in b.text for b in part.content
    )
    markers = [
        b for b in doc.content if isinstance(b, pf.RawBlock) and "bookbuild:chapter" in b.text
    ]
    assert len(markers) == 2


def test_intro_ends_at_the_next_chapter_without_marker() -> None:
    out = render("# Overview {.part}\n\nIntro.\n\n# Chapter\n\nBody.\n")
    assert "Intro.\n\n\\bookbuildpartpageend\n\n\\chapter{Chapter}" in out


def test_legacy_raw_part_becomes_the_same_part() -> None:
    out = render("\\part{Overview}\n\nThis part of the book provides an overview.\n\n# Jobs\n")
    assert out.startswith(
        "\\bookbuildpartpage\n\\part{Overview}\n\n"
        "This part of the book provides an overview.\n\n\\bookbuildpartpageend\n"
    )


def test_raw_part_with_markup_in_title() -> None:
    out = render("\\part{The \\emph{Questions}}\n\nIntro.\n")
    assert "\\part{The \\emph{Questions}}" in out


def test_page_breaks_after_raw_part_are_dropped_with_a_warning() -> None:
    warnings: list[str] = []
    doc = run(
        "\\part{Questions}\n\\cleardoublepage\n\\clearpage\n\nIntro.\n\n# Math\n", warnings=warnings
    )
    out = pf.convert_text(doc, input_format="panflute", output_format="latex")
    assert "clearpage" not in out
    assert warnings == ["parts: dropped '\\cleardoublepage \\clearpage' after part 'Questions'"]


def test_other_raw_latex_after_raw_part_is_kept_in_the_intro() -> None:
    out = render("\\part{Questions}\n\\vspace{1em}\n\nIntro.\n")
    assert "\\part{Questions}\n\n\\vspace{1em}\n\nIntro.\n\n\\bookbuildpartpageend" in out


def test_unnumbered_part() -> None:
    out = render("# Appendices {.part .unnumbered}\n\nIntro.\n\n# Glossary\n")
    assert out.startswith(
        "\\bookbuildpartpage\n\\bookbuildunnumberedpart{Appendices}\\label{appendices}\n"
    )


def test_unnumbered_part_short_form_and_raw_star() -> None:
    assert "\\bookbuildunnumberedpart{Appendices}" in render("# Appendices {.part -}\n")
    assert "\\bookbuildunnumberedpart{Legacy}" in render("\\part*{Legacy}\n")


def test_preamble_added_once_for_latex() -> None:
    doc = run(BOOK + "\n# Questions {.part}\n\nMore.\n")
    raws = _raw_blocks(doc.metadata["header-includes"])
    assert len(raws) == 1
    assert "\\newcommand{\\bookbuildpartpage}" in raws[0].text
    assert "\\newcommand{\\bookbuildunnumberedpart}" in raws[0].text
    assert raws[0].format == "latex"


@pytest.mark.parametrize(
    "existing",
    [
        "header-includes: \\usepackage{siunitx}",
        "header-includes:\n- \\usepackage{siunitx}\n- \\usepackage{ragged2e}",
        "header-includes: |\n  ```{=latex}\n  \\usepackage{siunitx}\n  ```",
    ],
)
def test_preamble_appended_to_existing_header_includes(existing: str) -> None:
    doc = run(f"---\n{existing}\n---\n\n" + BOOK)
    value = doc.metadata["header-includes"]
    assert isinstance(value, pf.MetaList)
    entries = json_metadata(doc)["header-includes"]["c"]
    assert "siunitx" in json.dumps(entries[0])
    assert entries[-1]["c"][0]["c"][1].startswith("% bookbuild parts")


def test_no_preamble_without_parts() -> None:
    doc = run("# Chapter\n\nText.\n")
    assert "header-includes" not in doc.metadata.content


def test_html_part_heading_with_roman_number() -> None:
    out = render(
        BOOK + "\n# Questions {.part}\n\nMore.\n\n# Appendices {.part .unnumbered}\n", "html"
    )
    assert '<h1 class="part unnumbered" id="overview">Part I. Overview</h1>\n' in out
    assert '<h1 class="part unnumbered" id="questions">Part II. Questions</h1>' in out
    assert '<h1 class="part unnumbered" id="appendices">Appendices</h1>' in out
    assert "<p>This part of the book provides an overview.</p>" in out


def test_html_has_no_raw_latex() -> None:
    doc = run("\\part{Questions}\n\\clearpage\n\nIntro.\n\n# Math\n", "html")
    out = pf.convert_text(doc, input_format="panflute", output_format="html")
    assert "\\" not in out
    assert "Part I. Questions" in out
    assert "header-includes" not in doc.metadata.content


def test_switch_off_leaves_the_document_alone() -> None:
    md = "---\nparts: false\n---\n\n# Overview {.part}\n\nIntro.\n\n\\part{Questions}\n"
    out = render(md)
    assert out == "\\chapter{Overview}\\label{overview}\n\nIntro.\n\n\\part{Questions}"


def test_bad_switch_value_is_an_author_error() -> None:
    with pytest.raises(ValueError, match="metadata 'parts' must be true or false, not 'maybe'"):
        run("---\nparts: maybe\n---\n\n# X {.part}\n")


def test_part_class_on_a_level_2_heading_is_an_author_error() -> None:
    with pytest.raises(ValueError, match="heading 'Overview' has class .part but is level 2"):
        run("## Overview {.part}\n")


def test_unbalanced_raw_part_is_an_author_error() -> None:
    doc = pf.Doc(pf.RawBlock("\\part{Overview", format="tex"), format="latex")
    with pytest.raises(ValueError, match="unbalanced braces in raw part"):
        parts.main(doc)


def test_runs_as_a_pandoc_filter() -> None:
    proc = subprocess.run(
        [pandoc_command(), "--filter", str(FILTER), "-t", "latex", "--wrap=none"],
        env=tool_env(),
        input="# Overview {.part}\n\nIntro.\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout == (
        "\\bookbuildpartpage\n\\part{Overview}\\label{overview}\n\nIntro.\n\n\\bookbuildpartpageend\n"
    )


def test_warning_names_the_chapter_file() -> None:
    warnings: list[str] = []
    md = "<!-- bookbuild:chapter book/05-questions.md -->\n\n\\part{Questions}\n\\clearpage\n"
    run(md, warnings=warnings)
    assert warnings == ["book/05-questions.md: parts: dropped '\\clearpage' after part 'Questions'"]


def test_nested_part_heading_is_left_alone_with_a_warning() -> None:
    warnings: list[str] = []
    doc = run("::: box\n# Overview {.part}\n\nIntro.\n:::\n", warnings=warnings)
    assert warnings == ["parts: part 'Overview' is nested in a block; left as it is"]
    assert "header-includes" not in doc.metadata.content
