"""The mdBook-style Rust guide in tests/books/mdbook-code, built once and read as a reader
would: listings included, hidden lines hidden, flags never printed, long lines wrapped."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bookbuild.cli import cli

from .conftest import BOOKS, pdf_pages, squash

LONG_LINE = (
    'let summary = format!("{} distinct words, {} words in all, the most frequent being {:?} '
    'which appears {} times across the whole of {}", distinct, total, top_word, top_count, '
    "path.display());"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Build the book, then edit the included listing and build again."""
    from bookbuild.books import load_config
    from bookbuild.build import build
    from bookbuild.builddir import work_dir
    from bookbuild.progress import Progress

    root = tmp_path_factory.mktemp("mdbook-code") / "mdbook-code"
    shutil.copytree(BOOKS / "mdbook-code", root)
    config = load_config(root / "book.yaml")
    first = build(config, progress=Progress(quiet=True))
    pages = pdf_pages(first.pdf)
    tex = next(work_dir(config).glob("*.tex")).read_text(encoding="utf-8")
    listing = root / "listings" / "ch02" / "src" / "main.rs"
    listing.write_text(
        listing.read_text(encoding="utf-8").replace("usage: wc-rs FILE", "usage: wc-rs POEM"),
        encoding="utf-8",
    )
    second = build(load_config(root / "book.yaml"), progress=Progress(quiet=True))
    return {
        "pages": pages,
        "text": squash("\n".join(pages)),
        "tex": tex,
        "warnings": first.warnings,
        "again": squash("\n".join(pdf_pages(second.pdf))),
        "root": root,
    }


def test_included_listing_present_with_anchor_lines_gone(built: dict[str, Any]) -> None:
    text = built["text"]
    main_rs = (BOOKS / "mdbook-code" / "listings" / "ch02" / "src" / "main.rs").read_text()
    anchored = main_rs.split("// ANCHOR: here\n")[1].split("// ANCHOR_END: here")[0]
    for line in anchored.splitlines():
        if "ANCHOR" not in line:  # every line of the anchored span, wrapped or not
            assert squash(line).split()[0] in text
    assert 'expect("usage: wc-rs FILE")' in text
    assert "use std::collections::BTreeMap;" in text  # the :1:3 range
    assert "ANCHOR" not in text
    assert 'edition = "2021"' in text  # Cargo.toml, the whole file


def test_hidden_lines_absent(built: dict[str, Any]) -> None:
    text = built["text"]
    assert "let mut counts = HashMap::new();" in text
    assert 'assert_eq!(counts["the"], 2);' in text
    for hidden in ("use std::collections::HashMap", "the cat and the hat", "#![allow", "# }"):
        assert hidden not in text
    # outside the rustdoc_include range, and never {{#include}}d: hidden
    assert "fn report" not in text and 'println!("{word:>20} {n}")' not in text
    assert "let first = empty[0];" in text and "fn main() { let empty" not in text


def test_no_directives_or_flags_printed(built: dict[str, Any]) -> None:
    for page in built["pages"]:
        for raw in ("{{#", "{{<", "rust,ignore", "no_run", "edition2021", "should_panic", "title="):
            assert raw not in page


def test_long_lines_wrap_on_the_page(built: dict[str, Any]) -> None:
    page = next(p for p in built["pages"] if "let summary" in p)
    lines = page.splitlines()
    start = next(i for i, line in enumerate(lines) if "let summary" in line)
    block = " ".join(lines[start : start + 6])
    wrapped = squash(block.replace("↪", " "))
    # pdftotext clips at the page edge: a line running off the page loses its end here
    assert squash(LONG_LINE) in wrapped
    assert sum("↪" in line for line in lines[start : start + 6]) >= 2
    assert "--minimum-length 3`" in built["text"]  # the long console line, wrapped too


def test_highlighted_with_titles_in_the_latex(built: dict[str, Any]) -> None:
    tex = built["tex"]
    assert re.search(r"\\KeywordTok\{let\}", tex) and r"\KeywordTok{fn}" in tex
    assert r"\ImportTok{import}" in tex  # the Python block, highlighted as python
    assert r"\BookbuildCodeTitle{compare.py}" in tex
    assert r"\usepackage{fvextra}" in tex and "breaklines" in tex
    text = built["text"]
    assert "short script: compare.py import collections, sys" in text
    assert "$ cargo run --release -- poems/the-raven.txt" in text  # console: plain, kept
    assert not built["warnings"]


def test_editing_an_included_file_rebuilds(built: dict[str, Any]) -> None:
    assert "usage: wc-rs POEM" in built["again"]
    assert "usage: wc-rs FILE" not in built["again"]


def test_a_missing_include_names_the_chapter_line(built: dict[str, Any]) -> None:
    chapter = built["root"] / "src" / "ch02-word-counter.md"
    text = chapter.read_text(encoding="utf-8")
    broken = text.replace("src/main.rs:here", "src/mian.rs:here")
    line = broken.splitlines().index("{{#include ../listings/ch02/src/mian.rs:here}}") + 1
    chapter.write_text(broken, encoding="utf-8")
    try:
        result = CliRunner().invoke(cli, ["pdf", "-q", "--book", str(built["root"])])
    finally:
        chapter.write_text(text, encoding="utf-8")
    assert result.exit_code == 1
    assert f"ch02-word-counter.md:{line}: error: include '../listings/ch02/src/mian.rs'" in (
        result.output
    )
    assert "did you mean '../listings/ch02/src/main.rs'?" in result.output


def _run_edited(root: Path, added: str, command: str) -> tuple[Any, list[str]]:
    """``bookbuild command`` with ``added`` after chapter 2's "## Counting" heading (undone
    afterwards), and the edited chapter's lines."""
    chapter = root / "src" / "ch02-word-counter.md"
    text = chapter.read_text(encoding="utf-8")
    edited = text.replace("## Counting\n", f"## Counting\n\n{added}")
    chapter.write_text(edited, encoding="utf-8")
    try:
        result = CliRunner().invoke(cli, [command, "--book", str(root)])
    finally:
        chapter.write_text(text, encoding="utf-8")
    return result, edited.splitlines()


def test_messages_after_an_include_name_the_line_as_written(built: dict[str, Any]) -> None:
    added = "The count uses \\wordcountmacro{} here.\n\n[^orphan]: Never called.\n"
    result, lines = _run_edited(built["root"], added, "pdf")
    bad = lines.index("The count uses \\wordcountmacro{} here.") + 1
    note = lines.index("[^orphan]: Never called.") + 1
    assert result.exit_code == 1
    assert f"ch02-word-counter.md:{note}: warning: Note with key 'orphan'" in result.output
    assert f"ch02-word-counter.md:{bad}: error: Undefined control sequence" in result.output
    assert f"{bad:>6} | The count uses \\wordcountmacro{{}} here." in result.output


def test_check_sees_included_text_and_written_lines(built: dict[str, Any]) -> None:
    added = (
        "See the note.[^nowhere]\n\n```rust\n{{#include ../listings/ch02/src/main.rs:20:99}}\n```\n"
    )
    result, lines = _run_edited(built["root"], added, "check")
    note = lines.index("See the note.[^nowhere]") + 1
    include = lines.index("{{#include ../listings/ch02/src/main.rs:20:99}}") + 1
    assert f"ch02-word-counter.md:{note}: error: footnote [^nowhere]" in result.output
    assert f"ch02-word-counter.md:{include}: warning: include '../listings" in result.output
    assert "the file has only 26 lines" in result.output
