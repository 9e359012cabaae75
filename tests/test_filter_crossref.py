"""Unit tests for filters/crossref.py, run in-process (STYLE.md's shape): Markdown -> Doc ->
``main(doc)`` -> pandoc writer, compared with exact strings."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import panflute as pf
import pytest

from .conftest import pandoc_command, tool_env

REPO = Path(__file__).resolve().parents[1]
FILTER = REPO / "filters" / "crossref.py"
_spec = importlib.util.spec_from_file_location("crossref_under_test", FILTER)
assert _spec and _spec.loader
crossref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(crossref)

NBSP = "\u00a0"


def run(md: str, fmt: str = "latex", warnings: list[str] | None = None) -> pf.Doc:
    """Run the filter on ``md``; like bookbuild, number sections unless the book says not to."""
    doc = pf.convert_text(md, standalone=True)
    if "numbersections" not in doc.metadata.content:
        doc.metadata["numbersections"] = pf.MetaBool(True)
    doc.format = fmt
    if warnings is not None:
        doc.bookbuild_warnings = warnings
    return crossref.main(doc)


def render(md: str, fmt: str = "latex", warnings: list[str] | None = None, *args: str) -> str:
    doc = run(md, fmt, warnings)
    return pf.convert_text(
        doc,
        input_format="panflute",
        output_format=fmt,
        extra_args=["--wrap=none", "--top-level-division=chapter", *args],
    )


def html(md: str, warnings: list[str] | None = None) -> str:
    return render(md, "html", warnings)


def preamble(md: str) -> str:
    """The header-includes the filter added, as LaTeX."""
    doc = run(md)
    includes = doc.metadata.content.get("header-includes")
    if includes is None:
        return ""
    blocks = [b for item in includes.content for b in item.content]
    return pf.convert_text(
        blocks, input_format="panflute", output_format="latex", extra_args=["--wrap=none"]
    )


FIGS = """\
# One

![A](a.png){#fig:a}

![B](b.png){#fig:b}

![C](c.png){#fig:c}

![D](d.png){#fig:d}
"""


# ------------------------------------------------------------------ references


def test_single_reference_latex() -> None:
    assert render(FIGS + "\nSee @fig:b.").endswith("See fig.~\\ref{fig:b}.")


def test_single_reference_html() -> None:
    assert html(FIGS + "\nSee @fig:b.").endswith(f"<p>See fig.{NBSP}1.2.</p>")


def test_bracketed_reference_is_the_same_as_in_text() -> None:
    assert render(FIGS + "\nSee [@fig:b].").endswith("See fig.~\\ref{fig:b}.")


def test_list_of_two_uses_plural_prefix() -> None:
    assert render(FIGS + "\n[@fig:a; @fig:b]").endswith("figs.~\\ref{fig:a}, \\ref{fig:b}")
    assert html(FIGS + "\n[@fig:a; @fig:b]").endswith(f"<p>figs.{NBSP}1.1, 1.2</p>")


def test_three_consecutive_become_a_range() -> None:
    assert render(FIGS + "\n[@fig:a; @fig:b; @fig:c]").endswith("figs.~\\ref{fig:a}-\\ref{fig:c}")
    assert html(FIGS + "\n[@fig:a; @fig:b; @fig:c; @fig:d]").endswith(f"figs.{NBSP}1.1-1.4</p>")


def test_non_consecutive_are_listed() -> None:
    assert html(FIGS + "\n[@fig:a; @fig:c; @fig:d]").endswith(f"figs.{NBSP}1.1, 1.3, 1.4</p>")


def test_suppressed_prefix() -> None:
    assert render(FIGS + "\n[-@fig:a]").endswith("\n\\ref{fig:a}")
    assert html(FIGS + "\n[-@fig:a]").endswith("<p>1.1</p>")


def test_capitalised_reference() -> None:
    assert render(FIGS + "\n@Fig:a").endswith("Fig.~\\ref{fig:a}")
    assert html(FIGS + "\n[@Fig:a; @Fig:b]").endswith(f"Figs.{NBSP}1.1, 1.2</p>")


def test_custom_prefix_and_suffix() -> None:
    out = render(FIGS + "\n[Picture @fig:a, left]")
    assert out.endswith("Picture~\\ref{fig:a}, left")


def test_mixed_kinds_are_grouped() -> None:
    md = FIGS + "\n| a |\n|---|\n| 1 |\n\n: T {#tbl:t}\n\n[@fig:a; @fig:b; @tbl:t]"
    assert html(md).endswith(f"<p>figs.{NBSP}1.1, 1.2, tbl.{NBSP}1.1</p>")


def test_forward_reference() -> None:
    assert html("See @fig:later.\n\n# One\n\n![L](l.png){#fig:later}").startswith(
        f"<p>See fig.{NBSP}1.1.</p>"
    )


def test_plain_citation_is_left_for_citeproc() -> None:
    doc = run("See @huyen:cs329s:2021.")
    cites = []
    doc.walk(lambda e, d: cites.append(e) if isinstance(e, pf.Cite) else None)
    assert [c.citations[0].id for c in cites] == ["huyen:cs329s:2021"]


def test_mixed_citation_is_split() -> None:
    doc = run(FIGS + "\n[@huyen:cs329s:2021; @fig:a]", "html")
    last = doc.content[-1]
    assert isinstance(last.content[0], pf.Cite)
    assert [c.id for c in last.content[0].citations] == ["huyen:cs329s:2021"]
    assert pf.stringify(last).strip().endswith(f"; fig.{NBSP}1.1")
    out = render(FIGS + "\n[@huyen:cs329s:2021; @fig:a]")
    assert out.endswith("{[}@huyen:cs329s:2021{]}; fig.~\\ref{fig:a}")


# ------------------------------------------------------------------ numbering


def test_figures_tables_equations_number_by_chapter() -> None:
    md = """\
# One

![A](a.png){#fig:a}

# Two

![B](b.png){#fig:b}

| x |
|---|
| 1 |

: T {#tbl:t}

$$ y = x $$ {#eq:y}

[@fig:a; @fig:b; @tbl:t; @eq:y]
"""
    assert html(md).endswith(f"<p>figs.{NBSP}1.1, 2.1, tbl.{NBSP}2.1, eq.{NBSP}2.1</p>")


def test_unnumbered_chapter_and_parts_do_not_count() -> None:
    md = """\
# Part one {.part}

# One

![A](a.png){#fig:a}

# Interlude {-}

![B](b.png){#fig:b}

```{=latex}
\\part{Two}
```

# Two

![C](c.png){#fig:c}

[@fig:a; @fig:b; @fig:c]
"""
    assert html(md).endswith(f"<p>figs.{NBSP}1.1, 1.2, 2.1</p>")


def test_figure_before_any_chapter_has_no_chapter_number() -> None:
    assert html("![A](a.png){#fig:a}\n\n@fig:a").endswith(f"<p>fig.{NBSP}1</p>")


def test_uncaptioned_table_counts_like_longtable() -> None:
    md = "# One\n\n| x |\n|---|\n| 1 |\n\n| y |\n|---|\n| 2 |\n\n: Second {#tbl:b}\n\n@tbl:b"
    assert html(md).endswith(f"<p>tbl.{NBSP}1.2</p>")


def test_unlabelled_captioned_figure_counts() -> None:
    md = "# One\n\n![Plain](p.png)\n\n![A](a.png){#fig:a}\n\n@fig:a"
    assert html(md).endswith(f"<p>fig.{NBSP}1.2</p>")


def test_sections_by_section_number() -> None:
    md = """\
# One {#sec:one}

## A {#sec:a}

## B {#sec:b}

### B1 {#sec:b1}

# Two

## C {#sec:c}

[@sec:one; @sec:b; @sec:b1; @sec:c]
"""
    assert html(md).endswith(f"<p>secs.{NBSP}1, 1.2, 1.2.1, 2.1</p>")
    assert render(md).endswith("secs.~\\ref{sec:one}, \\ref{sec:b}, \\ref{sec:b1}, \\ref{sec:c}")


def test_unnumbered_section_is_referred_to_by_title() -> None:
    md = "# One\n\n## Notes {#sec:notes .unnumbered}\n\nSee @sec:notes."
    assert html(md).endswith(f'<p>See sec.{NBSP}<a href="#sec:notes">Notes</a>.</p>')
    assert render(md).endswith("See sec.~\\hyperref[sec:notes]{Notes}.")


def test_appendix_chapters_are_lettered() -> None:
    md = "# One\n\n```{=latex}\n\\appendix\n```\n\n# Extra {#sec:x}\n\n![A](a.png){#fig:a}\n\n"
    assert html(md + "[@sec:x; @fig:a]").endswith(f"sec.{NBSP}A, fig.{NBSP}A.1</p>")


def test_latex_label_matches_pandoc() -> None:
    assert crossref.latex_label("fig:my_plot-2.b") == "fig:my_plot-2.b"
    out = render("# One\n\n![É](e.png){#fig:été}\n\n@fig:été")
    assert "\\label{fig:uxe9tuxe9}" in out
    assert out.endswith("fig.~\\ref{fig:uxe9tuxe9}")


# ------------------------------------------------------------------ labels


def test_figure_keeps_pandoc_label_and_plain_caption_in_latex() -> None:
    out = render("# One\n\n![A cat](cat.png){#fig:cat}")
    assert "\\caption{A cat}\\label{fig:cat}" in out


def test_figure_caption_follows_template_in_html() -> None:
    out = html("# One\n\n![A cat](cat.png){#fig:cat}")
    assert "<figcaption>Figure 1.1: A cat</figcaption>" in out


def test_table_caption_label() -> None:
    md = "# One\n\n| x |\n|---|\n| 1 |\n\n: Numbers {#tbl:n}\n\n@tbl:n"
    assert "\\caption{Numbers}\\label{tbl:n}" in render(md)
    out = html(md)
    assert "<caption>Table 1.1: Numbers</caption>" in out
    assert out.endswith(f"<p>tbl.{NBSP}1.1</p>")


def test_table_label_left_in_caption_text_is_moved_to_the_id() -> None:
    md = "---\nnumbersections: true\n---\n# One\n\n| x |\n|---|\n| 1 |\n\n: Numbers\n\n@tbl:n"
    doc = pf.convert_text(md, standalone=True)
    table = doc.content[1]
    table.caption.content[0].content.extend([pf.Space(), pf.Str("{#tbl:n}")])
    doc.format = "html"
    doc = crossref.main(doc)
    assert table.identifier == "tbl:n"
    assert pf.stringify(table.caption) == "Table 1.1: Numbers"


def test_table_in_labelled_div() -> None:
    md = "# One\n\n::: {#tbl:n}\n| x |\n|---|\n| 1 |\n\n: Numbers\n:::\n\n@tbl:n"
    out = html(md)
    assert '<table id="tbl:n">' in out
    assert out.endswith(f"<p>tbl.{NBSP}1.1</p>")


def test_equation_latex() -> None:
    out = render("# One\n\n$$ a = b $$ {#eq:ab}\n\nBy @eq:ab.")
    assert out.endswith(
        "\\begin{equation}\na = b\n\\label{eq:ab}\n\\end{equation}\n\nBy eq.~\\ref{eq:ab}."
    )


def test_equation_html() -> None:
    out = render("# One\n\n$$ a = b $$ {#eq:ab}\n\nBy [@eq:ab].", "html", None, "--mathjax")
    assert '<span id="eq:ab"><span class="math display">\\[a = b\\qquad{(1.1)}\\]</span>' in out
    assert out.endswith(f"<p>By eq.{NBSP}1.1.</p>")


def test_equation_span_syntax_and_trailing_punctuation() -> None:
    md = "# One\n\n[$$ x $$]{#eq:x}\n\n$$ y $$ {#eq:y}.\n\n[@eq:x; @eq:y]"
    assert html(md).endswith(f"<p>eqns.{NBSP}1.1, 1.2</p>")
    out = render(md)
    assert "\\label{eq:y}\n\\end{equation}." in out


def test_unlabelled_display_math_is_left_alone() -> None:
    assert render("# One\n\n$$ a $$").endswith("\\[ a \\]")


# ------------------------------------------------------------------ metadata


def test_prefix_string_and_list() -> None:
    md = "---\nfigPrefix: Figure\ntblPrefix: [Table, Tables]\n---\n" + FIGS
    md += "\n| x |\n|---|\n| 1 |\n\n: T {#tbl:t}\n\n| y |\n|---|\n| 1 |\n\n: U {#tbl:u}\n\n"
    out = html(md + "[@fig:a; @fig:b], @tbl:t, [@tbl:t; @tbl:u]")
    assert out.endswith(f"<p>Figure{NBSP}1.1, 1.2, Table{NBSP}1.1, Tables{NBSP}1.1, 1.2</p>")


def test_eqn_and_sec_prefix() -> None:
    md = "---\neqnPrefix: [Eq., Eqs.]\nsecPrefix: [Section, Sections]\n---\n"
    md += "# One {#sec:one}\n\n$$ a $$ {#eq:a}\n\n$$ b $$ {#eq:b}\n\n"
    out = html(md + "@eq:a, [@eq:a; @eq:b], @sec:one, @Sec:one")
    assert out.endswith(f"<p>Eq.{NBSP}1.1, Eqs.{NBSP}1.1, 1.2, Section{NBSP}1, Section{NBSP}1</p>")


def test_capitalised_prefix_from_metadata() -> None:
    md = "---\nfigPrefix: [fig., figs.]\nFigPrefix: [Figure, Figures]\n---\n" + FIGS
    assert html(md + "\n@Fig:a and @fig:a").endswith(f"Figure{NBSP}1.1 and fig.{NBSP}1.1</p>")


MANUSCRIPT_TABLE = """\
---
tableTemplate: |
  *$$tableTitle$$ $$i$$*$$titleDelim$$ $$t$$
---
# One

| x |
|---|
| 1 |

: Numbers {#tbl:n}
"""


def test_manuscript_table_template_html() -> None:
    assert "<caption><em>Table 1.1</em>: Numbers</caption>" in html(MANUSCRIPT_TABLE)


def test_manuscript_table_template_latex() -> None:
    assert "\\caption{Numbers}\\label{tbl:n}" in render(MANUSCRIPT_TABLE)
    assert preamble(MANUSCRIPT_TABLE) == (
        "\\usepackage{caption}\n\n"
        "\\DeclareCaptionLabelFormat{bookbuild-table}{\\emph{#1 #2}: }\n\n"
        "\\captionsetup[table]{labelformat=bookbuild-table,labelsep=none}"
    )


def test_figure_template_title_and_delim() -> None:
    md = (
        "---\nfigureTemplate: '**$$figureTitle$$ $$i$$**$$titleDelim$$ $$t$$ (end)'\n"
        "figureTitle: Abb.\ntitleDelim: .\n---\n# One\n\n![Katze](k.png){#fig:k}\n"
    )
    assert "<figcaption><strong>Abb. 1.1</strong>. Katze (end)</figcaption>" in html(md)
    assert preamble(md) == (
        "\\usepackage{caption}\n\n"
        "\\DeclareCaptionLabelFormat{bookbuild-figure}{\\textbf{Abb. #2}. }\n\n"
        "\\DeclareCaptionTextFormat{bookbuild-figure}{#1 (end)}\n\n"
        "\\captionsetup[figure]{labelformat=bookbuild-figure,labelsep=none,"
        "textformat=bookbuild-figure}\n\n"
        "\\AtBeginDocument{\\renewcommand*{\\figurename}{Abb.}}\n\n"
        "\\DeclareCaptionLabelFormat{bookbuild-table}{#1 #2. }\n\n"
        "\\captionsetup[table]{labelformat=bookbuild-table,labelsep=none}"
    )


def test_table_title() -> None:
    md = "---\ntableTitle: Tab.\n---\n" + MANUSCRIPT_TABLE.split("---\n", 2)[2]
    assert "<caption>Tab. 1.1: Numbers</caption>" in html(md)


def test_eqn_template() -> None:
    md = "---\neqnTemplate: '[$$i$$]'\n---\n# One\n\n$$ a $$ {#eq:a}\n"
    doc = run(md, "html")
    maths = []
    for block in doc.content:
        block.walk(lambda e, d: maths.append(e.text) if isinstance(e, pf.Math) else None)
    assert maths == ["a\\qquad{[1.1]}"]
    assert preamble(md) == (
        "\\makeatletter\n\\renewcommand{\\tagform@}[1]{\\maketag@@@{{[}\\ignorespaces#1"
        "\\unskip\\@@italiccorr{]}}}\n\\makeatother"
    )


def test_chapters_false_numbers_through_the_book() -> None:
    md = "---\nchapters: false\n---\n# One\n\n![A](a.png){#fig:a}\n\n"
    md += "# Two\n\n![B](b.png){#fig:b}\n\n"
    assert html(md + "[@fig:a; @fig:b]").endswith(f"figs.{NBSP}1, 2</p>")
    assert preamble(md) == (
        "\\counterwithout{figure}{chapter}\n\\counterwithout{table}{chapter}\n"
        "\\counterwithout{equation}{chapter}"
    )


def test_range_delim_and_link_references() -> None:
    md = "---\nrangeDelim: '–'\nlinkReferences: true\n---\n" + FIGS
    assert html(md + "\n[@fig:a; @fig:b; @fig:c]").endswith(
        f'figs.{NBSP}<a href="#fig:a">1.1</a>–<a href="#fig:c">1.3</a></p>'
    )


def test_numbersections_absent_means_unnumbered_like_pandoc() -> None:
    md = "# One {#sec:one}\n\n![A](a.png){#fig:a}\n\n# Two\n\n![B](b.png){#fig:b}\n\n"
    doc = pf.convert_text(md + "[@sec:one; @fig:a; @fig:b]", standalone=True)
    doc.format = "html"
    out = pf.convert_text(crossref.main(doc), input_format="panflute", output_format="html")
    assert out.endswith(f'sec.{NBSP}<a href="#sec:one">One</a>, figs.{NBSP}1, 2</p>')


def test_numbersections_false_and_secnumdepth() -> None:
    md = "# One {#sec:one}\n\n## A {#sec:a}\n\n### Deep {#sec:deep}\n\n[@sec:a; @sec:deep]"
    assert html("---\nsecnumdepth: 1\n---\n" + md).endswith(
        f'secs.{NBSP}1.1, <a href="#sec:deep">Deep</a></p>'
    )
    assert html("---\nnumbersections: false\n---\n" + md).endswith(
        f'secs.{NBSP}<a href="#sec:a">A</a>, <a href="#sec:deep">Deep</a></p>'
    )


def test_no_preamble_without_settings() -> None:
    doc = run(FIGS)
    assert "header-includes" not in doc.metadata.content


@pytest.mark.parametrize(
    "existing",
    ["", "header-includes: \\usepackage{siunitx}\n",
     "header-includes: |\n  ```{=latex}\n  \\usepackage{siunitx}\n  ```\n",
     "header-includes:\n- \\usepackage{siunitx}\n- \\usepackage{ragged2e}\n"],
    ids=["absent", "inlines", "blocks", "list"],
)  # fmt: skip
def test_header_includes_any_shape(existing: str) -> None:
    md = f"---\n{existing}chapters: false\n---\n# One\n"
    out = render(md, "latex", None, "--standalone")
    assert "\\counterwithout{figure}{chapter}" in out
    if existing:
        assert out.index("\\usepackage{siunitx}") < out.index("\\counterwithout{figure}")


def test_unsupported_settings_are_reported() -> None:
    warnings: list[str] = []
    run("---\ncref: true\nchapDelim: '-'\n---\n# One\n", "latex", warnings)
    assert warnings == ["crossref settings not supported, ignored: cref, chapDelim"]


# ------------------------------------------------------------------ problems


BOOK = """\
<!-- bookbuild:chapter book/01-one.md -->

# One

![A](a.png){#fig:a}

<!-- bookbuild:chapter book/02-two.md -->

# Two

See @fig:nope and [@fig:a; @tbl:nope].
"""


def test_unknown_reference_warns_with_chapter_file() -> None:
    warnings: list[str] = []
    out = render(BOOK, "latex", warnings)
    assert out.endswith("See fig.~\\textbf{??} and fig.~\\ref{fig:a}, tbl.~\\textbf{??}.")
    assert warnings == [
        "book/02-two.md: unknown reference @fig:nope",
        "book/02-two.md: unknown reference @tbl:nope",
    ]


def test_unknown_reference_without_markers_goes_to_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert html("@eq:nope").endswith(f"<p>eq.{NBSP}<strong>??</strong></p>")
    assert capsys.readouterr().err == "crossref: unknown reference @eq:nope\n"


def test_strict_metadata_makes_unknown_references_an_error() -> None:
    with pytest.raises(crossref.UnknownReferenceError, match="unknown reference @fig:nope"):
        run("---\ncrossref-strict: true\n---\n" + BOOK, "latex", [])


def test_label_defined_twice_names_both_places() -> None:
    md = BOOK.replace("See", "![Again](b.png){#fig:a}\n\nSee")
    with pytest.raises(crossref.DuplicateLabelError) as info:
        run(md, "latex", [])
    assert isinstance(info.value, ValueError)
    assert str(info.value) == (
        "label fig:a is defined twice: book/01-one.md (Figure 1.1) and book/02-two.md (Figure 2.1)"
    )


def test_label_defined_twice_without_markers() -> None:
    with pytest.raises(crossref.DuplicateLabelError, match="sec:x is .* Section 1 and Section 1.1"):
        run("# One {#sec:x}\n\n## Two {#sec:x}")
    with pytest.raises(
        crossref.DuplicateLabelError, match="label eq:e is defined twice: Equation 1.1 and"
    ):
        run("# One\n\n$$ b $$ {#eq:e}\n\n$$ c $$ {#eq:e}")


def test_image_that_is_not_a_figure_warns() -> None:
    warnings: list[str] = []
    run("# One\n\nText ![A](a.png){#fig:a} inline.", "latex", warnings)
    assert warnings == [
        "image fig:a is not a figure (it needs a caption and a paragraph of its own), "
        "so it gets no number"
    ]


# ------------------------------------------------------------------ integration


def test_standalone_pandoc_filter() -> None:
    md = "# One\n\n![A](a.png){#fig:a}\n\nSee @fig:a and @fig:nope.\n"
    out = subprocess.run(
        [pandoc_command(), "--filter", str(FILTER), "--to", "latex", "--citeproc"],
        env=tool_env(), input=md, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.rstrip().endswith("See fig.~\\ref{fig:a} and fig.~\\textbf{??}.")
    assert out.stderr == "crossref: unknown reference @fig:nope\n"


def test_bookbuild_loader_reports_author_error() -> None:
    sys.path.insert(0, str(REPO / "src"))
    from bookbuild.errors import FilterError
    from bookbuild.filters import load_filter, run_filters

    doc = pf.convert_text("# One\n\n![A](a.png){#fig:a}\n\n![B](b.png){#fig:a}", standalone=True)
    with pytest.raises(FilterError, match="^label fig:a is defined twice"):
        run_filters(doc, [load_filter(FILTER)])


def test_no_module_level_state_between_runs() -> None:
    assert html(FIGS + "\n@fig:d").endswith(f"fig.{NBSP}1.4</p>")
    assert html("# One\n\n![D](d.png){#fig:d}\n\n@fig:d").endswith(f"fig.{NBSP}1.1</p>")


def test_external_labels_from_a_chapter_preview_are_refs() -> None:
    doc = pf.convert_text("See @sec:elsewhere and @fig:nope.\n", standalone=True)
    doc.format = "latex"
    doc.bookbuild_external_labels = {"sec:elsewhere"}
    doc.bookbuild_warnings = []
    crossref.main(doc)
    out = pf.convert_text(doc, input_format="panflute", output_format="latex")
    assert out == "See sec.~\\ref{sec:elsewhere} and fig.~\\textbf{??}."
    assert doc.bookbuild_warnings == ["unknown reference @fig:nope"]
