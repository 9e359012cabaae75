"""Layout books built end to end: the PDF's outline and contents follow the book's own TOC."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pypdf
import pytest

from bookbuild.books import config_path_for, load_config
from bookbuild.build import build
from bookbuild.layouts import detect
from bookbuild.progress import Progress

from .conftest import BOOKS, pdf_pages, squash

LAYOUT_BOOKS = ("mdbook-ferris", "gitbook-fieldecology", "bookdown-inference", "quarto-datasci")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Each sample book copied and built once: name -> (book dir, pdf, pages' text)."""
    out = {}
    root = tmp_path_factory.mktemp("layouts")
    for name in LAYOUT_BOOKS:
        book = root / name
        shutil.copytree(BOOKS / name, book)
        config = load_config(config_path_for(book))  # no book.yaml: the layout is detected
        result = build(config)
        out[name] = (book, result.pdf, pdf_pages(result.pdf), result)
    return out


def outline(pdf: Path) -> list[tuple[int, str]]:
    reader = pypdf.PdfReader(pdf)
    found: list[tuple[int, str]] = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title))

    walk(reader.outline, 0)
    return found


#: src/SUMMARY.md of mdbook-ferris as a reader sees it: parts at the top, each chapter one
#: level below its part, each nested page one level below its parent.
FERRIS_TREE = [
    (0, "Foreword"),
    (0, "Introduction"),
    (0, "I Getting started"),
    (1, "Installation"),
    (2, "Hello, World!"),
    (3, "Anatomy of a Rust Program"),
    (4, "The main function"),
    (2, "Hello, Cargo!"),
    (1, "Programming a Guessing Game"),
    (0, "II Core ideas"),
    (1, "Understanding Ownership"),
    (2, "What is Ownership?"),
    (2, "References and Borrowing"),
    (1, "Chapter 4. Traits in Depth"),
    (1, "Async, Await and Futures"),
    (1, "Contributors"),
]


def test_mdbook_outline_is_the_summary_tree(built):
    _, pdf, _, _ = built["mdbook-ferris"]
    marks = outline(pdf)
    pages_in_outline = [m for m in marks if m in FERRIS_TREE]
    assert pages_in_outline == FERRIS_TREE
    depth = {t: d for d, t in marks}
    assert depth["Macros"] == depth["Anatomy of a Rust Program"] + 1  # a page's own sections
    assert depth["Troubleshooting"] == depth["Installation"] + 1


def test_mdbook_numbering_and_contents(built):
    _, _, pages, _ = built["mdbook-ferris"]
    contents = squash(" ".join(p for p in pages[:4] if "Contents" in p or "Traits" in p))
    assert re.search(r"\bForeword 1\b", contents)  # prefix: unnumbered
    assert re.search(r"\b1 Installation\b", contents)
    assert re.search(r"\b1\.3 Hello, World!", contents)
    assert re.search(r"\b1\.3\.2 Anatomy of a Rust Program", contents)
    assert re.search(r"\b1\.3\.2\.1 Macros", contents)
    assert "1.4 Hello, Cargo!" in contents  # a draft: listed
    assert re.search(r"\b3 Understanding Ownership", contents)
    assert "Chapter 4. Traits in Depth" in contents and "4 Chapter 4." not in contents
    assert re.search(r"\b5 Async, Await and Futures", contents)  # counts on after "Chapter 4."
    assert re.search(r"Futures \d+ Contributors \d+", contents)  # suffix: unnumbered


def test_mdbook_pages_as_real_books_write_them(built):
    """Skipped heading levels, a page with two top headings, mdBook's MathJax delimiters,
    ``{{#title}}`` and an escaped include: printed as mdBook shows them, without a warning."""
    book, pdf, pages, result = built["mdbook-ferris"]
    marks = outline(pdf)
    depth = {t: d for d, t in marks}
    # "#### Before you start" under the page's "#": its first section, numbered 2.1
    assert depth["Before you start"] == depth["Programming a Guessing Game"] + 1
    contents = squash(" ".join(pages[:4]))
    assert re.search(r"\b2\.1 Before you start", contents) and ".0." not in contents
    # a second "#" in a page is a section of that page; the page title is printed once
    assert depth["Where to go from here"] == depth["Programming a Guessing Game"] + 1
    assert [t for _, t in marks].count("Programming a Guessing Game") == 1
    text = squash(" ".join(pages))
    assert "{{#title" not in text and "Guessing Game}}" not in text
    assert "{{#include listings/ch02/src/main.rs:guess}}" in text  # escaped: as written
    assert "\\(" not in text and "\\[" not in text and "\\frac" not in text
    tex = (book / "build" / ".xelatex" / "book.tex").read_text()
    assert "\\(p = \\frac{1}{100}\\)" in tex and "\\[ p_k = \\frac{1}{100 - k} \\]" in tex
    assert not [w for w in result.warnings if "directive" in w.message or "LaTeX" in w.message]
    # book.toml's [output.html.code.hidelines] python = "~": that line hidden, as on the web
    assert 'guess = int(input("Your guess: "))' in text and "import random" not in text


def test_gitbook_heading_ids_wide_tables_and_template_tags(built):
    """``{#size}`` on a GitBook heading is its id (a link to it resolves), not text; a pipe
    table with long cells wraps inside the page; ``{% hint %}``, ``{% raw %}`` and the
    exercises plugin's ``{% exercise %}`` print as the book shows them."""
    book, pdf, pages, result = built["gitbook-fieldecology"]
    text = squash(" ".join(pages))
    assert "{%" not in text and "%}" not in text and "{{ book." not in text
    assert "field course of spring 2026" in text  # {{ book.season }}: book.json's variables
    assert text.count("Warning") == 1  # the hint's box title, once
    assert "buried metal pins" in text and "{{row}}-{{column}}" in text
    assert re.search(r"Exercise 3\.1 A 20 m tape crosses three shrubs", text)
    assert "var cover =" in text and "Solution" in text
    assert "100 * (1.5 + 2.0 + 0.5) / 20" in text
    assert "assert(cover" not in text  # the plugin's check: never shown to readers
    assert not [w for w in result.warnings if "template tag" in w.message]
    assert "Choosing the quadrat size" in text and "{#size}" not in text
    assert not [w for w in result.warnings if "quadrats.md#size" in w.message]
    assert "walked slowly at the same pace every time" in text
    tex = (book / "build" / ".xelatex" / "book.tex").read_text()
    table = tex[tex.index("Line intercept") - 600 : tex.index("Line intercept")]
    assert "p{(\\linewidth" in table
    log = (book / "build" / ".xelatex" / "book.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log


def test_contents_page_numbers_point_at_the_pages(built):
    for name in LAYOUT_BOOKS:
        _, pdf, pages, result = built[name]
        assert result.pages == len(pages) == len(pypdf.PdfReader(pdf).pages)
        body = [
            i for i, p in enumerate(pages) if re.search(r"^\s*1\s*$", p.strip().splitlines()[-1])
        ]
        first_body = body[-1] if body else 0
        toc = " ".join(p for p in pages[:first_body] if p)
        chapters = re.findall(r"^\s*(?:\d+|[A-Z])\.?\s+(\S.*?\S)\s{3,}(\d+)\s*$", toc, re.M)
        assert chapters, name
        for title, number in chapters:
            page = pages[first_body + int(number) - 1]
            assert squash(title) in squash(page), (name, title, number)


def test_gitbook_parts_intro_and_nesting(built):
    book, pdf, pages, _ = built["gitbook-fieldecology"]
    marks = outline(pdf)
    assert marks[0] == (0, "Field Methods in Ecology")  # README.md, the introduction
    assert (0, "Part I — Foundations") in marks and (0, "Part II. Field work") in marks
    index = marks.index((0, "Part I — Foundations"))
    assert marks[index + 1 : index + 7] == [
        (1, "Sampling design"),
        (2, "Populations and samples"),
        (2, "Random sampling"),
        (3, "Drawing the sample"),
        (3, "Stratified designs"),
        (4, "Allocation rules"),
    ]
    text = squash(" ".join(pages))
    assert "Part I Part I" not in text and "Part II Part II" not in text
    assert "Zoë Ångström" in text
    reader = pypdf.PdfReader(pdf)
    images = sum(len(page.images) for page in reader.pages)
    # the grid, written relative to its page in a subfolder (the README's raw-HTML <img> is
    # rebased too, and printed once the html filter turns it into an image)
    assert images >= 1


def test_bookdown_parts_appendix_and_chunks(built):
    _, pdf, pages, _ = built["bookdown-inference"]
    marks = outline(pdf)
    assert (0, "I Foundations") in marks
    assert (0, "Appendix") in marks
    after = marks[marks.index((0, "Appendix")) :]
    assert (1, "A R basics") in after or (1, "R basics") in after
    text = squash(" ".join(pages))
    assert "rolls <- sample(1:6, 1000, replace = TRUE)" in text  # shown, not run
    assert "Notes on Statistical Inference" in pages[0]
    assert "Sofía Nikoláou" in pages[0]


def test_bookdown_habits_of_real_books(built):
    """What real bookdown books write, as a reader of the PDF sees it."""
    book, pdf, pages, result = built["bookdown-inference"]
    text = squash(" ".join(pages))
    contents = squash(pages[2])
    # sections of an unnumbered chapter (# Preface {-}) are not numbered 0.1, 0.2
    assert "How to read these notes" in contents and "Acknowledgements" in contents
    assert not re.search(r"\b0\.\d", contents)
    # inline code longer than a line breaks after an underscore instead of running off
    log = next((book / "build" / ".xelatex").glob("*.log")).read_text(errors="replace")
    assert "rerun_the_whole_simulation" in text and "Overfull \\hbox" not in log
    # a bare URL is a link, as R Markdown reads it (and breaks at the line's end)
    uris = [
        a.get_object()["/A"].get("/URI")
        for page in pypdf.PdfReader(pdf).pages
        for a in page.get("/Annots") or []
        if "/A" in a.get_object()
    ]
    assert (
        "https://example.org/inference-notes/lectures-and-data-sets-for-every-week-of-the-course"
        in uris
    )
    # `r ''` before a chunk header shows the header verbatim, as knitr makes it
    assert "```{r die-mean, echo=TRUE}" in text and "r ''" not in text
    # an uncaptioned knitr::include_graphics() shows its image; a missing one a placeholder
    bell = next(n for n, page in enumerate(pages) if "bell curve we will meet" in page)
    assert pypdf.PdfReader(pdf).pages[bell].images
    assert "sampling-sketch" in text and "How the sample mean moves" in text
    # a Markdown image that is not in the book: a placeholder, and a warning at its line
    assert "Residuals against fitted values image not found: figures/residuals.png" in text
    where = {(Path(w.file).name, w.line) for w in result.warnings if w.file}
    assert ("03-regression.Rmd", 12) in where and ("01-intro.Rmd", 39) in where
    # include=knitr::is_html_output(): left out of the PDF without a word about its image
    assert not any("cover.png" in w.message for w in result.warnings)
    # \backmatter (book class) builds; the HTML-only References heading is not printed, and
    # the reference list still gets its chapter at the end
    assert "is_html_output" not in text
    assert outline(pdf)[-1][1] == "References"
    assert "Casella" in pages[-1]


def test_quarto_parts_appendices_and_yaml_titles(built):
    _, pdf, pages, _ = built["quarto-datasci"]
    marks = outline(pdf)
    # format: pdf: documentclass: scrreprt is honoured; KOMA's part bookmarks have no numeral
    assert [t for d, t in marks if d == 0] == [
        "Preface",
        "Introduction",
        "Wrangling",
        "Visualise",
        "Appendices",
    ]
    contents = squash(" ".join(pages[1:3]))
    assert re.search(r"\b1\. Introduction 2\b", contents)  # title: from the YAML header
    assert re.search(r"\b1\.1\. The workflow", contents)
    assert re.search(r"\bI\. Wrangling 3\b", contents)
    assert re.search(r"\bA\. Tools\b", contents)
    assert any("Plots are for seeing patterns" in p and "Visualise" in p for p in pages)
    # a figure in a part's intro stays below the part title (no float above it)
    part = next(p for p in pages if "Plots are for seeing patterns" in p)
    assert part.index("Visualise") < part.index("Plots are for") < part.index("fig-layers")
    assert "Jürgen Weiß" in pages[0]


def test_no_op_rebuild_and_detection_of_the_layout(built):
    book, _, _, _ = built["mdbook-ferris"]
    result = build(load_config(detect(book)))
    assert result.passes == []  # nothing changed: the build dir is not an input


def test_edited_nested_page_is_rebuilt_alone(built, tmp_path):
    book = tmp_path / "ferris"
    shutil.copytree(BOOKS / "mdbook-ferris", book)
    build(load_config(book / "book.toml"))
    page = book / "src" / "ch01-00-getting-started" / "anatomy.md"
    page.write_text(page.read_text().replace("in detail", "line by line"))
    stream = io.StringIO()
    result = build(load_config(book / "book.toml"), progress=Progress(stream=stream))
    assert "anatomy.md" in stream.getvalue() and "chapters reused" in stream.getvalue()
    assert outline(result.pdf) == outline(built["mdbook-ferris"][1])
    assert "line by line" in squash(" ".join(pdf_pages(result.pdf)))


def test_preview_of_a_nested_page_is_numbered_as_in_the_book(built):
    from bookbuild.preview import SelectionError, preview

    book, _, _, _ = built["mdbook-ferris"]
    config = load_config(book / "book.toml")
    for selector in ("anatomy", "1.3.2", "Anatomy of a Rust"):
        result = preview(config, [selector], Progress(quiet=True))
        text = squash(" ".join(pdf_pages(result.pdf)))
        assert "1.3.2 Anatomy of a Rust Program" in text, selector
        assert "1.3.2.1 Macros" in text
    with pytest.raises(SelectionError) as info:
        preview(config, ["anatomie"], Progress(quiet=True))
    assert "did you mean 'anatomy'?" in info.value.message
