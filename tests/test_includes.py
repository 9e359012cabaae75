"""Text-level includes (mdBook and Quarto), expanded before pandoc reads a chapter."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bookbuild.includes import MAX_DEPTH, IncludeError, expand, expand_includes

MAIN_RS = """\
use std::io;

// ANCHOR: here
fn main() {
    println!("Guess the number!");
    // ANCHOR: input
    let mut guess = String::new();
    // ANCHOR_END: input
}
// ANCHOR_END: here

fn helper() {}
"""


@pytest.fixture
def book(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    (root / "listings" / "ch02" / "src").mkdir(parents=True)
    (root / "listings" / "ch02" / "src" / "main.rs").write_text(MAIN_RS, encoding="utf-8")
    (root / "guide").mkdir()
    return root


def chapter(book: Path, text: str, name: str = "guide/ch02.md") -> tuple[str, list]:
    path = book / name
    path.write_text(text, encoding="utf-8")
    return expand_includes(text, path, book)


def test_whole_file_without_anchor_lines(book: Path) -> None:
    text, warnings = chapter(book, "```rust\n{{#include ../listings/ch02/src/main.rs}}\n```\n")
    assert "use std::io;" in text and "fn helper() {}" in text
    assert "ANCHOR" not in text and "{{#" not in text
    assert text.startswith("```rust\nuse std::io;\n") and text.endswith("fn helper() {}\n```\n")
    assert warnings == []


@pytest.mark.parametrize(
    ("spec", "first", "last"),
    [
        (":4", "fn main() {", "fn main() {"),
        (":4:5", "fn main() {", '    println!("Guess the number!");'),
        (":11:", "", "fn helper() {}"),
        ("::2", "use std::io;", ""),
    ],
)
def test_line_ranges(book: Path, spec: str, first: str, last: str) -> None:
    text, _ = chapter(book, f"{{{{#include ../listings/ch02/src/main.rs{spec}}}}}")
    lines = text.split("\n")
    assert lines[0] == first and lines[-1] == last
    expected = MAIN_RS.rstrip("\n").split("\n")
    assert all(line in expected for line in lines)


def test_anchor_and_nested_anchor_markers_removed(book: Path) -> None:
    text, _ = chapter(book, "{{#include ../listings/ch02/src/main.rs:here}}")
    assert text.split("\n") == [
        "fn main() {",
        '    println!("Guess the number!");',
        "    let mut guess = String::new();",
        "}",
    ]
    inner, _ = chapter(book, "{{#include ../listings/ch02/src/main.rs:input}}")
    assert inner == "    let mut guess = String::new();"


def test_rustdoc_include_hides_the_rest(book: Path) -> None:
    text, _ = chapter(book, "{{#rustdoc_include ../listings/ch02/src/main.rs:input}}")
    lines = text.split("\n")
    assert "    let mut guess = String::new();" in lines
    assert "# use std::io;" in lines and "# fn helper() {}" in lines and "#" in lines
    assert not any("ANCHOR" in line for line in lines)


def test_quarto_include_and_escape(book: Path) -> None:
    (book / "guide" / "_note.md").write_text("A *shared* note.\n", encoding="utf-8")
    text, _ = chapter(
        book, "Before.\n\n{{< include _note.md >}}\n\nWrite \\{{#include x.rs}} to include.\n"
    )
    assert "A *shared* note." in text and "{{<" not in text
    assert "Write {{#include x.rs}} to include." in text
    shown, _ = chapter(book, "Quarto: `{{{< include _note.md >}}}`.\n")
    assert shown == "Quarto: `{{< include _note.md >}}`.\n"


def test_recursive_paths_relative_to_includer_and_origins(book: Path) -> None:
    (book / "guide" / "parts").mkdir()
    (book / "guide" / "parts" / "a.md").write_text(
        "Part A.\n\n{{< include ../../listings/ch02/src/main.rs >}}\n", encoding="utf-8"
    )
    path = book / "guide" / "ch.md"
    source = "# Title\n\n{{< include parts/a.md >}}\n\nAfter.\n"
    result = expand(source, path, book)
    lines = result.text.split("\n")
    assert "Part A." in lines and "use std::io;" in lines
    after = lines.index("After.") + 1
    assert result.source_of(after) == (path, 5)
    assert result.source_of(lines.index("Part A.") + 1) == (book / "guide" / "parts" / "a.md", 1)
    assert result.source_of(lines.index("use std::io;") + 1)[0].name == "main.rs"


def test_escaping_the_book_is_an_error_naming_the_line(book: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    with pytest.raises(IncludeError) as caught:
        chapter(book, "Text.\n\n{{#include ../../secret.txt}}\n")
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.line == 3 and diagnostic.file.endswith("ch02.md")
    assert "outside the book directory" in diagnostic.message


def test_missing_file_did_you_mean(book: Path) -> None:
    with pytest.raises(IncludeError) as caught:
        chapter(book, "x\n```rust\n{{#include ../listings/ch02/src/mian.rs:here}}\n```\n")
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.line == 3
    assert "not found" in diagnostic.message
    assert "did you mean '../listings/ch02/src/main.rs'" in diagnostic.message


def test_unknown_anchor_did_you_mean(book: Path) -> None:
    with pytest.raises(IncludeError, match="did you mean 'here'"):
        chapter(book, "{{#include ../listings/ch02/src/main.rs:hree}}")


def test_range_past_the_end_warns(book: Path) -> None:
    text, warnings = chapter(book, "{{#include ../listings/ch02/src/main.rs:12:40}}")
    assert text == "fn helper() {}"
    assert len(warnings) == 1 and warnings[0].line == 1 and "only 12 lines" in warnings[0].message
    with pytest.raises(IncludeError, match="only 12 lines"):
        chapter(book, "{{#include ../listings/ch02/src/main.rs:30}}")


def test_loop_and_depth(book: Path) -> None:
    (book / "guide" / "self.md").write_text("{{< include self.md >}}\n", encoding="utf-8")
    with pytest.raises(IncludeError, match="include loop"):
        chapter(book, "{{< include self.md >}}\n")
    for n in range(MAX_DEPTH + 2):
        (book / "guide" / f"d{n}.md").write_text(f"{{{{< include d{n + 1}.md >}}}}\n", "utf-8")
    (book / "guide" / f"d{MAX_DEPTH + 2}.md").write_text("bottom\n", encoding="utf-8")
    with pytest.raises(IncludeError, match="nested more than"):
        chapter(book, "{{< include d0.md >}}\n")


def test_text_without_includes_is_untouched(book: Path) -> None:
    source = "# Plain\n\nNo braces here.\n"
    assert chapter(book, source) == (source, [])


def test_info_strings_become_one_word_outside_code_only(book: Path) -> None:
    source = (
        '```python title="hello world.py"\nprint(1)\n```\n\n'
        "```rust ignore\nfn a() {}\n```\n\n"
        '````markdown\n```python title="kept.py"\n````\n\n'
        '```{.python filename="y.py"}\nx\n```\n'
    )
    text, _ = chapter(book, source)
    lines = text.split("\n")
    assert lines[0] == "```python,title=hello%20world.py"
    assert "```rust,ignore" in lines
    assert '```python title="kept.py"' in lines  # inside a four-backtick block: content
    assert '```{.python filename="y.py"}' in lines
    assert len(lines) == len(source.split("\n"))


def test_chapter_lines_map_included_lines_to_their_include(book: Path) -> None:
    source = "# T\n\n```rust\n{{#include ../listings/ch02/src/main.rs:here}}\n```\n\nAfter.\n"
    result = expand(source, book / "guide" / "ch.md", book)
    lines = result.text.split("\n")
    assert len(result.chapter_lines) == len(lines)
    assert result.chapter_lines[lines.index("fn main() {")] == 4
    assert result.chapter_lines[lines.index("}")] == 4
    assert result.chapter_lines[lines.index("After.")] == 7
    assert result.chapter_lines[lines.index("```rust")] == 3


def test_playground_becomes_a_rust_block_and_rustdoc_range(book: Path) -> None:
    text, _ = chapter(book, "{{#playground ../listings/ch02/src/main.rs editable}}\n")
    lines = text.split("\n")
    assert lines[0] == "```rust,editable" and lines[-2] == "```"
    assert "fn helper() {}" in lines and "ANCHOR" not in text
    shown, _ = chapter(book, "{{#rustdoc_include ../listings/ch02/src/main.rs:12:12}}")
    visible = [line for line in shown.split("\n") if not line.startswith("#")]
    assert visible == ["fn helper() {}"]


def test_a_chapter_with_includes_is_rebuilt_alone_as_a_full_build_writes_it(
    tmp_path: Path,
) -> None:
    """An edit of prose in a chapter with includes rewrites that chapter alone (twice in a
    row), with the .tex and warnings of a build from scratch: source lines as written, the
    include's warning once."""
    from bookbuild.books import load_config
    from bookbuild.build import book_cache, make_latex
    from bookbuild.progress import Progress

    from .conftest import BOOKS

    root = tmp_path / "mdbook-code"
    shutil.copytree(BOOKS / "mdbook-code", root)
    chapter_path = root / "src" / "ch02-word-counter.md"
    text = chapter_path.read_text(encoding="utf-8")
    include = "{{#include ../listings/ch02/src/main.rs:20:99}}"
    chapter_path.write_text(
        text.replace("## Counting\n", f"## Counting\n\n```rust\n{include}\n```\n", 1),
        encoding="utf-8",
    )

    def build(cache: bool) -> tuple[str, list[tuple], list[str]]:
        config = load_config(root / "book.yaml")
        progress = Progress(quiet=True)
        tex, warnings, _ = make_latex(config, progress, book_cache(config) if cache else None)
        keys = sorted((w.file or "", w.line or 0, w.message) for w in warnings)
        return tex, keys, [name for name, _ in progress.stages]

    build(cache=True)
    for sentence in ("One sentence more.", "Another sentence instead."):
        lines = chapter_path.read_text(encoding="utf-8").splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith("Our counter reads"))
        lines[first] += f" {sentence}"
        chapter_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tex, warnings, stages = build(cache=True)
        assert "chapters" in stages and "reuse" not in stages, stages
        assert (tex, warnings) == build(cache=False)[:2]
        written = chapter_path.read_text(encoding="utf-8").splitlines()
        at = written.index(include) + 1
        found = [w for w in warnings if "the file has only" in w[2]]
        assert [(Path(file).resolve(), line) for file, line, _ in found] == [
            (chapter_path.resolve(), at)
        ]
        assert found[0][2] == (
            "include '../listings/ch02/src/main.rs:20:99': the file has only 26 lines; "
            "included 20 to 26"
        )
