"""filters/code.py in-process: info strings, hidden lines, titles, leftovers, the preamble."""

from __future__ import annotations

import subprocess
from pathlib import Path

import panflute as pf
import pytest

from bookbuild.filters import load_filter
from bookbuild.markers import chapter_marker, src_marker

from .conftest import pandoc_command, tool_env

FILTER = Path(__file__).resolve().parents[1] / "filters" / "code.py"
code = load_filter(FILTER)

HIDDEN = """\
```rust,ignore
# use std::collections::HashMap;
#
# fn main() {
    let mut scores = HashMap::new();
    ## not hidden: one hash left
    #[allow(unused)]
    #![allow(dead_code)]
# }
```
"""


def run(md: str, fmt: str = "latex") -> pf.Doc:
    doc = pf.convert_text(md, standalone=True)
    doc.format = fmt
    doc.bookbuild_warnings = []
    return code.main(doc)


def blocks(doc: pf.Doc) -> list[pf.CodeBlock]:
    found: list[pf.CodeBlock] = []
    doc.walk(lambda e, d: found.append(e) if isinstance(e, pf.CodeBlock) else None)
    return found


def test_rustdoc_hidden_lines_go_and_escapes_stay() -> None:
    (block,) = blocks(run(HIDDEN))
    assert block.classes == ["rust"]
    lines = block.text.split("\n")
    assert "    let mut scores = HashMap::new();" in lines
    assert "    # not hidden: one hash left" in lines
    assert "    #[allow(unused)]" in lines and "    #![allow(dead_code)]" in lines
    assert not any("HashMap;" in line or line.strip() in ("#", "# }") for line in lines)


@pytest.mark.parametrize(
    ("info", "language", "title"),
    [
        ("rust,no_run,edition2021", "rust", None),
        ("python,title=fetch%20data.py", "python", "fetch data.py"),
        ('{.python filename="x.py"}', "python", "x.py"),
        ("console", None, None),
        ("sh", "bash", None),
        ("text", None, None),
    ],
)
def test_info_strings(info: str, language: str | None, title: str | None) -> None:
    doc = run(f"```{info}\n#[kept] everywhere\n```\n")
    (block,) = blocks(doc)
    assert block.classes == ([language] if language else [])
    assert block.text == "#[kept] everywhere"
    assert not block.attributes
    latex = pf.convert_text(doc, input_format="panflute", output_format="latex")
    assert "no_run" not in latex and "edition" not in latex
    if title:
        assert f"\\BookbuildCodeTitle{{{title}}}" in latex
    else:
        assert "BookbuildCodeTitle{" not in latex


def test_leftover_directives_warn_at_their_line() -> None:
    """The markers as bookbuild writes them (markers.py): the filter reads them back."""
    label = "guide/ch02.md"
    md = (
        f"{chapter_marker(label)}\n\n"
        f"```{{=latex}}\n{src_marker(label, 7)}\n```\n\n"
        "```rust\nfn main() {}\n{{#playground example.rs editable}}\n```\n\n"
        f"```{{=latex}}\n{src_marker(label, 12)}\n```\n\n"
        "See {{#title Guessing}} here.\n"
    )
    doc = run(md)
    assert doc.bookbuild_warnings == [
        "guide/ch02.md:9: mdBook directive '{{#playground example.rs editable}}' left in code",
        "guide/ch02.md:12: mdBook directive '{{#title' left as text",
    ]


def test_preamble_wraps_code_and_sets_the_grey_style() -> None:
    doc = run("```rust\nfn main() {}\n```\n")
    includes = "\n".join(doc.get_metadata("header-includes"))
    assert "fvextra" in includes and "breaklines" in includes
    assert r"\RecustomVerbatimEnvironment{verbatim}{Verbatim}" in includes
    assert r"\renewcommand{\KeywordTok}[1]{\textbf{#1}}" in includes
    assert r"\renewcommand{\CommentTok}[1]{\textit{\textcolor[HTML]{5F5F5F}{#1}}}" in includes


def test_unknown_style_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a pandoc highlight style"):
        run("---\nhighlight-style: no-such-style\n---\n\n```rust\nfn a() {}\n```\n")


def test_runs_alone_under_pandoc() -> None:
    result = subprocess.run(
        [pandoc_command(), "-f", "markdown", "-t", "latex", "--filter", str(FILTER)],
        input=HIDDEN,
        capture_output=True,
        text=True,
        env=tool_env(),
        check=True,
    )
    assert r"\KeywordTok{let}" in result.stdout and "HashMap;" not in result.stdout
