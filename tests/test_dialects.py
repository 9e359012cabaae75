"""Quarto and bookdown books as their authors wrote them build to PDFs a reader can use.

Each sample book (tests/books/quarto-dialect, tests/books/bookdown-dialect) is built once per
module; the tests read its PDF page by page with pdftotext and look at the LaTeX bookbuild
compiled: no dialect markup left in the text, numbers where the reader expects them, callout
boxes, captioned placeholders for the figures the code cells would draw.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from bookbuild.books import load_config
from bookbuild.build import build
from bookbuild.dialects.cells import normalise_cells
from bookbuild.progress import Progress

from .conftest import BOOKS, pdf_pages, squash, unhyphenate

pytestmark = pytest.mark.skipif(shutil.which("xelatex") is None, reason="needs xelatex")

#: Dialect markup that must never reach the reader.
LEFTOVERS = ("@fig-", "@tbl-", "@sec-", "@eq-", "@thm-", "@lem-", "\\@ref(", "@ref(", "{{<",
             "```", "#|", "(#eq:", "(#fig:", "(#tab:", "(ref:", "(PART)", "(APPENDIX)",
             "callout-", "??")  # fmt: skip


class Built:
    def __init__(self, book: str, tmp: Path):
        work = tmp / book
        shutil.copytree(BOOKS / book, work)
        config = load_config(work / "book.yaml")
        self.work = work
        progress = Progress(quiet=True)
        self.result = build(config, output=tmp / f"{book}.pdf", progress=progress)
        self.pdf = self.result.pdf
        self.pages = [unhyphenate(p) for p in pdf_pages(self.pdf)]
        self.text = squash("\n".join(self.pages))
        self.tex = next((config.build_dir / ".xelatex").glob("*.tex")).read_text()
        self.warnings = [w.message for w in self.result.warnings]
        self.located = [w for w in self.result.warnings if w.file]

    def page_of(self, needle: str) -> int:
        return next(n for n, page in enumerate(self.pages) if needle in squash(page))


@pytest.fixture(scope="module")
def quarto(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built("quarto-dialect", tmp_path_factory.mktemp("quarto"))


@pytest.fixture(scope="module")
def bookdown(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built("bookdown-dialect", tmp_path_factory.mktemp("bookdown"))


# ---------------------------------------------------------------------------- Quarto


def test_quarto_leaves_no_dialect_markup(quarto: Built) -> None:
    for leftover in LEFTOVERS:
        assert leftover not in quarto.text, leftover


def test_quarto_numbers_per_chapter(quarto: Built) -> None:
    text = quarto.text
    # Chapter 1: a Markdown figure, a table and a cell's figure; chapter 2: a figure div.
    assert "Figure 1.1 shows where the stations are, and Table 1.1 lists the files" in text
    assert "(see also Figures 1.1, 1.2)" in text
    assert "Figure 1.2: Trips per day in 2023" in text
    assert "Table 1.1: The raw files" in text
    assert "Figure 2.1: Tidy data: variables in columns" in text
    assert "Figure 2.2 is skewed" in text  # -@fig-durations after "Figure"
    # Chapter 3: equations, theorem family, cell figures and a cell table; appendices.
    assert "with Equation 3.1, and estimate it by least squares, Equation 3.2" in text
    assert re.search(r"Theorem 3\.1 \(Gauss–Markov\)\.", text)
    assert "Lemma 3.1 is the first half of Theorem 3.1" in text
    assert "Figure 3.1 shows the fit and Figure 3.2 its residuals" in text
    assert "the coefficients are in Table 3.1" in text.replace("ﬀ", "ff")
    assert "The earlier figures were Figure 1.1 and Figure 2.2" in text
    assert "Table B.1: Columns of the trip records" in text
    assert "Appendix A says how to install the tools" in text
    assert "Chapter 1 is where to start, and Chapter 3 is where the statistics begin" in text
    assert "(1.1 of Chapter 1)" in text  # -@sec-parquet, [Chapter -@sec-import]


def test_quarto_parts_and_appendices_in_the_outline(quarto: Built) -> None:
    titles = [item.title for item in _outline(PdfReader(quarto.pdf).outline)]
    assert (
        titles.index("I Wrangling") < titles.index("Reading files") < titles.index("II Modelling")
    )
    assert "Setting up R and Python" in titles
    assert "\\appendix" in quarto.tex


def test_quarto_shortcodes_and_visibility(quarto: Built) -> None:
    text = quarto.text
    assert (
        "This is the second edition of Bike Share Analytics, written against version 2.1.0" in text
    )
    assert "The trip records come from São Paulo and Zürich" in text
    assert "1,204,331 rides" in text
    assert "version 2.1.0 of the package" in text
    assert "# version 2.1.0" in text  # a shortcode inside a code block
    assert "The printed edition shows every map" in text
    assert "interactive maps" not in text and "Click the table" not in text
    # {{< pagebreak >}}: "Reading Parquet" starts a new page after the callouts.
    assert quarto.page_of("1.1 Reading Parquet import pandas") > quarto.page_of(
        "Where the data comes from"
    )


def test_quarto_callouts_are_titled_boxes(quarto: Built) -> None:
    text = quarto.text
    for title in ("Tip: How to read this book", "Warning Timestamps", "Note: Where the data",
                  "Important: Do not drop the zeros", "Caution: Duplicates in 2022",
                  "Tip janitor::clean_names()"):  # fmt: skip
        assert title in text, title
    assert quarto.tex.count("\\begin{bookbuildcallout}") == 7
    assert "\\usepackage{tcolorbox}" in quarto.tex and "breakable" in quarto.tex


def test_quarto_cells(quarto: Built) -> None:
    text = quarto.text
    assert 'trips <- read_csv("data/trips-2023.csv",' in text  # echoed R code
    assert "import pandas as pd" in text and "trips.shape" in text  # echoed Python
    assert "library(tidyverse)" not in text  # include: false
    assert "trips.head()" not in text  # echo: false
    assert "geom_line()" not in text  # echo: false, but its figure is a placeholder
    assert "The busiest day had max(daily$n) trips." in text  # inline `r …`, not run
    for label in ("fig-trips-per-day", "fig-durations", "fig-temp-fit", "tbl-coefs"):
        assert f"{label} " in text + " ", label
    assert text.count("Figure from an R code cell, not run") == 3
    assert "Table from an R code cell, not run" in text
    # fig-residuals was drawn already (linear-models_files/figure-pdf/): that file is used.
    assert "fig-residuals-1.png" in quarto.tex
    assert any(
        m == "5 code cells shown, not run (5 hidden by echo/include); 4 figures from cells are "
        "placeholders, 1 taken from image files already in the book"
        for m in quarto.warnings
    ), quarto.warnings


def test_quarto_chapter_preview_resolves_other_chapters(quarto: Built) -> None:
    """A --chapter preview takes the numbers of labels in the chapters left out (Quarto's
    {#fig-x}, {#sec-x} …) from the full build."""
    from click.testing import CliRunner

    from bookbuild.cli import cli

    result = CliRunner().invoke(
        cli, ["pdf", "-q", "--book", str(quarto.work), "--chapter", "linear-models"]
    )
    assert result.exit_code == 0, result.output
    pdf = load_config(quarto.work / "book.yaml").build_dir / "preview" / "linear-models.pdf"
    text = squash("\n".join(pdf_pages(pdf)))
    assert "The earlier figures were Figure 1.1 and Figure 2.2" in text
    assert "Lemma 3.1 is the first half of Theorem 3.1" in text
    assert "??" not in text
    # the preview's filters know the book's folder too: {{< var version >}} from _variables.yml
    assert "This chapter uses version 2.1.0 of the package" in text


# ---------------------------------------------------------------------------- bookdown


def test_bookdown_leaves_no_dialect_markup(bookdown: Built) -> None:
    for leftover in LEFTOVERS:
        assert leftover not in bookdown.text, leftover


def test_bookdown_references(bookdown: Built) -> None:
    text = bookdown.text
    assert (
        "Chapter 1 recalls the rules of probability, Chapter 3 turns to data, and Appendix A"
        in text
    )
    assert "Rearranging (1.1) gives Bayes’ rule, Theorem 1.1." in text
    assert "Figure 1.1 shows the binomial coefficients of Section 1.1’s" in text.replace("ﬀ", "ff")
    assert "Definition 1.1 is used in Section 1.2" in text
    assert "Figure 2.1 is skewed; Table 2.1 lists the means" in text
    assert "Table 2.2 and Equation 2.1 are used in Chapter 3" in text
    assert "By Lemma 2.1 it concentrates; Theorem 3.1 says how" in text
    assert "and its slope is (4.2)" in text
    assert "Figure 4.1 shows the fit; compare Figure 3.1 from Chapter 3 and Equation 4.1" in text
    assert "Used in Chapter 3 and Theorem 3.1" in text


def test_bookdown_captions_and_text_references(bookdown: Built) -> None:
    text = bookdown.text
    assert "Figure 1.1: Pascal’s triangle, the first six rows" in text
    assert "Figure 2.1: The Binomial(10, 0.3) mass function — note the skew." in text
    assert "Table 2.1: Means of two discrete distributions" in text
    assert "Table 2.2: Common distributions and their variances" in text
    assert "Figure 3.1: Means of 1000 samples of size 30 from Exp(1)" in text
    assert text.count("Figure from an R code cell, not run") == 3
    # knitr::include_graphics("images/galton.png"): the book's own file, not a placeholder.
    assert "gives the bell shape of Figure 2.2" in text
    assert "Figure 2.2: A Galton board: balls fall through rows of pins" in text
    assert "images/galton.png" in bookdown.tex


def test_bookdown_theorems_parts_and_appendix(bookdown: Built) -> None:
    text = bookdown.text
    assert "Theorem 1.1 (Bayes' rule)." in text.replace("’", "'")
    assert "Proof. Apply (1.1) twice." in text
    assert "Definition 1.1 (Independence)." in text
    assert "Lemma 2.1 (Chebyshev)." in text
    assert "Theorem 3.1" in text and "(Central limit theorem)." in text
    titles = [item.title for item in _outline(PdfReader(bookdown.pdf).outline)]
    assert titles.index("I Foundations") < titles.index("Probability")
    assert titles.index("II Inference") < titles.index("Estimation")
    assert "Appendix A Normal table" in text
    assert "\\part{Foundations}" in bookdown.tex and "\\appendix" in bookdown.tex


def test_bookdown_custom_blocks_are_callouts(bookdown: Built) -> None:
    assert "Tip Draw a tree diagram before applying Bayes’ rule" in bookdown.text
    assert bookdown.tex.count("\\begin{bookbuildcallout}") == 1


def test_bookdown_cells(bookdown: Built) -> None:
    text = bookdown.text
    assert "library(ggplot2)" not in text  # include=FALSE
    assert "barplot(" not in text and "abline(" not in text  # echo=FALSE
    assert "means <- replicate(1000, mean(rexp(30)))" in text
    assert "Its mean, 10 * 0.3, is" in text
    assert (
        "2 code cells shown, not run (4 hidden by echo/include); "
        "4 figures from cells are placeholders, 1 taken from image files already in the book"
        in bookdown.warnings
    )


def test_cell_fences_keep_their_lines() -> None:
    text = '# A\n\n```{r fig-a, echo=FALSE, fig.cap="A \\"q\\""}\nplot(1)\n```\n'
    out = normalise_cells(text)
    assert out.count("\n") == text.count("\n")
    assert '```{.r bookbuild-cell="fig-a, echo=FALSE, fig.cap=\\"A \\\\\\"q\\\\\\"\\""}' in out


def _outline(items: list) -> list:  # type: ignore[type-arg]
    out = []
    for item in items:
        if isinstance(item, list):
            out.extend(_outline(item))
        else:
            out.append(item)
    return out


def test_default_filters_box_a_long_callout_across_pages(tmp_path: Path) -> None:
    """callouts is a default filter; a callout longer than a page continues on the next."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.yaml").write_text("chapters: [notes.md]\nmetadata:\n  title: Notes\n")
    lines = [
        f"Step {n}: check the gradient of layer {n} before you trust the loss curve."
        for n in range(1, 61)
    ]
    body = "\n\n".join(lines)
    (book / "notes.md").write_text(
        f'# Training notes\n\n::: {{.warning title="Before a long run"}}\n{body}\n:::\n\n'
        "> [!TIP]\n> Save a checkpoint every epoch.\n"
    )
    config = load_config(book / "book.yaml")
    result = build(config, output=tmp_path / "notes.pdf", progress=Progress(quiet=True))
    pages = [squash(p) for p in pdf_pages(result.pdf)]
    first = next(n for n, p in enumerate(pages) if "Warning: Before a long run" in p)
    last = next(n for n, p in enumerate(pages) if "Step 60:" in p)
    assert last > first  # the box broke across a page
    assert "Tip Save a checkpoint every epoch." in " ".join(pages)
    tex = next((config.build_dir / ".xelatex").glob("*.tex")).read_text()
    assert tex.count("\\begin{bookbuildcallout}") == 2 and "\\tcbuselibrary{breakable}" in tex


@pytest.mark.parametrize("book", ["quarto-dialect", "bookdown-dialect"])
def test_check_accepts_the_dialects(book: str) -> None:
    """`bookbuild check` takes @fig-x for Quarto references (not citations) and finds images
    next to their chapter, as Quarto does."""
    from click.testing import CliRunner

    from bookbuild.cli import cli

    result = CliRunner().invoke(cli, ["check", "--book", str(BOOKS / book)])
    assert result.exit_code == 0, result.output
    assert ": error:" not in result.output and "check: 0 errors, 0 warnings" in result.output


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("```{python}\n1\n```", '```{.python bookbuild-cell=""}\n1\n```'),
        ("> ```{r, echo=FALSE}\n> 1\n> ```", '> ```{.r bookbuild-cell="echo=FALSE"}\n> 1\n> ```'),
        ("~~~~{julia}\nx\n~~~~", '~~~~{.julia bookbuild-cell=""}\nx\n~~~~'),
        ("```{{python}}\n1\n```", '```{.python bookbuild-cell-verbatim=""}\n1\n```'),
        # Inside another fence, in pandoc's own attribute syntax, or raw: left alone.
        ("````markdown\n```{r}\n1\n```\n````", "````markdown\n```{r}\n1\n```\n````"),
        ("```{.python}\n1\n```", "```{.python}\n1\n```"),
        ("```{=latex}\n\\newpage\n```", "```{=latex}\n\\newpage\n```"),
        # an indented code block shows a cell as written; a list item's indented cell runs
        ("Like so:\n\n    ```{r}\n    1\n    ```\n", "Like so:\n\n    ```{r}\n    1\n    ```\n"),
        (
            "1.  Try:\n\n    ```{r}\n    1\n    ```\n",
            '1.  Try:\n\n    ```{.r bookbuild-cell=""}\n    1\n    ```\n',
        ),
        # knitr's empty `r ''` shows a chunk header verbatim; inside a cell it is R code
        ("````md\n`r ''````{r a}\n1\n```\n````", "````md\n```{r a}\n1\n```\n````"),
        ("```{r}\nx <- \"`r ''`\"\n```", '```{.r bookbuild-cell=""}\nx <- "`r \'\'`"\n```'),
    ],
)
def test_cell_fences(written: str, read: str) -> None:
    assert normalise_cells(written) == read


def test_a_cell_never_closed_is_closed_at_the_end_of_the_file() -> None:
    from bookbuild.dialects.cells import read_cells

    written = "# Means\n\nThe mean:\n\n```{r}\nmean(x)\n"
    read, line = read_cells(written)
    assert line == 5
    assert read == '# Means\n\nThe mean:\n\n```{.r bookbuild-cell=""}\nmean(x)\n\n```'
    assert read_cells("```{r}\n1\n```\n") == ('```{.r bookbuild-cell=""}\n1\n```\n', None)


def test_dialect_labels_for_previews() -> None:
    from bookbuild.dialects.labels import dialect_labels

    quarto = normalise_cells(
        "# Models {#sec-models}\n\n## Fit {#sec-fit}\n\n![A](a.png){#fig-a width=50%}\n\n"
        "```{r}\n#| label: fig-cell\n#| fig-cap: C\nplot(1)\n```\n\n::: {#thm-main}\nT\n:::\n"
    )
    assert dialect_labels(quarto) == {
        "sec-models", "chapter:sec-models", "sec-fit", "fig:a", "fig:cell", "thm-main",
    }  # fmt: skip
    bookdown = normalise_cells(
        "Table: (\\#tab:t) T\n\n$$x (\\#eq:x)$$\n\n"
        '```{r cars, echo=FALSE, fig.cap="Cars"}\nplot(cars)\n```\n'
    )
    assert dialect_labels(bookdown) == {"tbl:t", "eq:x", "fig:cars"}


def test_a_cell_never_closed_is_a_warning_at_its_fence(tmp_path: Path) -> None:
    from bookbuild.stages.assemble import assemble

    book = tmp_path / "book"
    book.mkdir()
    (book / "book.yaml").write_text("chapters: [means.md]\nmetadata:\n  title: Means\n")
    (book / "means.md").write_text("# Means\n\nThe mean:\n\n```{r}\nmean(x)\n")
    chapter = assemble(load_config(book / "book.yaml")).chapters[0]
    [warning] = chapter.warnings
    assert (Path(warning.file or "").name, warning.line) == ("means.md", 5)
    assert warning.message == "code cell never closed: it runs to the end of the file"
    assert chapter.text.endswith("mean(x)\n\n```")
