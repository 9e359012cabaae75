"""Errors point at the chapter line the author wrote, with a hint; -v adds the .tex side."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from bookbuild.cli import cli
from bookbuild.diagnostics import Diagnostic
from bookbuild.stages.compile import hint_for, parse_latex_log

from .conftest import pdf_pages

pytestmark = pytest.mark.latex


@pytest.fixture
def book(book_in_cwd: Callable[[str], Path]) -> Path:
    return book_in_cwd("minimal")


def append(book: Path, chapter: str, text: str) -> None:
    path = book / chapter
    path.write_text(path.read_text() + text)


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_undefined_control_sequence_points_at_the_chapter_line(book: Path) -> None:
    append(book, "two.md", "\nSome text.\n\n- a list\n- with \\foo inside\n")
    code, _, err = run("pdf", "--book", "minimal", "-q")
    assert code == 1
    assert err.splitlines() == [
        "minimal/two.md:8: error: Undefined control sequence",
        "     8 | - with \\foo inside",
        "  hint: \\foo is not defined: a typo, or a package missing from the preamble "
        "(build.preamble)",
    ]


def test_verbose_adds_the_tex_excerpt_and_log(book: Path) -> None:
    append(book, "two.md", "\nA paragraph with \\foo inside it.\n")
    code, _, err = run("pdf", "--book", "minimal", "-q", "-v")
    assert code == 1
    assert "minimal/two.md:5: error: Undefined control sequence" in err
    assert "minimal.tex:" in err and "A paragraph with \\foo inside it." in err
    assert "  log: build/.xelatex/minimal.log" in err


def test_math_outside_math_mode(book: Path) -> None:
    # the manuscript's own bug: \rightarrow in running text (pdflatex stops on it)
    append(book, "one.md", '\n- Lyft renamed "Data Analyst"\\rightarrow "Data Scientist"\n')
    code, _, err = run("pdf", "--book", "minimal", "-q", "--engine", "pdflatex")
    assert code == 1
    assert err.splitlines()[0] == "minimal/one.md:11: error: Missing $ inserted"
    assert "math outside math mode: put \\rightarrow inside $…$" in err


def test_missing_package_in_the_preamble(book: Path) -> None:
    (book / "preamble.tex").write_text("% extra packages\n\\usepackage{nosuchpkg}\n")
    config = book / "book.yaml"
    config.write_text(config.read_text() + "  preamble: [preamble.tex]\n")
    code, _, err = run("pdf", "--book", "minimal", "-q")
    assert code == 1
    assert err.splitlines() == [
        "minimal/preamble.tex:2: error: LaTeX Error: File `nosuchpkg.sty' not found",
        "     2 | \\usepackage{nosuchpkg}",
        "  hint: LaTeX package 'nosuchpkg' is not installed: find its Debian package with: "
        "apt-file search nosuchpkg.sty",
    ]


def test_known_package_hint_names_the_debian_package() -> None:
    hint, needle = hint_for("LaTeX Error: File `tcolorbox.sty' not found", "", "xelatex")
    assert hint == "LaTeX package 'tcolorbox' is not installed: apt-get install texlive-latex-extra"
    assert needle == "tcolorbox"


def test_unicode_character_with_pdflatex_suggests_xelatex(book: Path) -> None:
    append(book, "two.md", "\nSnowman ☃ here.\n")
    code, _, err = run("pdf", "--book", "minimal", "-q", "--engine", "pdflatex")
    assert code == 1
    assert err.splitlines() == [
        "minimal/two.md:5: error: LaTeX Error: Unicode character ☃ (U+2603) not set up for "
        "use with LaTeX",
        "     5 | Snowman ☃ here.",
        "  hint: pdflatex has no glyph set up for ☃: build with --engine xelatex (or lualatex)",
    ]


def test_missing_image_is_a_placeholder_and_a_located_warning(book: Path) -> None:
    """The rest of the book still prints; --strict refuses, before LaTeX runs."""
    append(book, "two.md", "\n![A chart](chart.png)\n")
    code, _, err = run("pdf", "--book", "minimal", "--strict", "-q")
    assert code == 5
    assert err.splitlines()[:3] == [
        "minimal/two.md:5: warning: image 'chart.png' not found: a placeholder is printed",
        "     5 | ![A chart](chart.png)",
        "  hint: image paths are relative to the chapter file or to the book directory",
    ]
    assert not (book.parent / "build" / ".xelatex").exists()
    code, _, err = run("pdf", "--book", "minimal", "-q")
    assert code == 0, err
    text = "".join(pdf_pages(book.parent / "build" / "minimal.pdf"))
    assert "A chart" in text and "image not found: chart.png" in text


def test_image_in_an_unsupported_format(book: Path) -> None:
    (book / "chart.eps").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n")
    append(book, "two.md", "\n![A chart](chart.eps)\n")
    code, _, err = run("pdf", "--book", "minimal", "-q")
    assert code == 1
    assert err.splitlines() == [
        "minimal/two.md:5: error: image 'chart.eps' is a .eps file, which xelatex cannot include",
        "     5 | ![A chart](chart.eps)",
        "  hint: convert it to PNG, JPEG or PDF",
    ]


def test_an_image_that_cannot_be_converted(book: Path) -> None:
    # BMP is converted to PNG (bookbuild.images); a damaged one is an error at its line
    (book / "chart.bmp").write_bytes(b"BM" + bytes(60))
    append(book, "two.md", "\n![A chart](chart.bmp)\n")
    code, _, err = run("pdf", "--book", "minimal", "-q")
    assert code == 1
    assert err.splitlines()[0].startswith(
        "minimal/two.md:5: error: image 'chart.bmp' cannot be converted: Pillow cannot read it"
    )
    assert err.splitlines()[1:] == [
        "     5 | ![A chart](chart.bmp)",
        "  hint: the file may be damaged: open it and save it as PNG or JPEG",
    ]


def test_unknown_citation_is_a_located_warning_and_strict_fails(book: Path) -> None:
    append(book, "two.md", "\nAs shown in [@nokey:2020].\n")
    code, _, err = run("pdf", "--book", "minimal", "-q")
    assert code == 0  # a warning does not fail the build
    code, _, err = run("pdf", "--book", "minimal", "--strict")
    assert code == 5
    assert "minimal/two.md:5: warning: citation 'nokey:2020' is not in the bibliography" in err
    assert err.endswith("error: 1 warning(s) and --strict: no PDF written\n")
    assert err.count("warning: citation 'nokey:2020'") == 1


def test_invalid_bibliography_entry_names_bib_file_and_line(book: Path) -> None:
    (book / "refs.bib").write_text("@book{knuth:tex,\n  title = {X},\n  year 1984\n}\n")
    code, _, err = run("pdf", "--book", "minimal", "-q")
    assert code == 1
    assert err.splitlines()[0].startswith(
        "minimal/refs.bib:3: error: invalid bibliography entry: unexpected"
    )
    assert "     3 |   year 1984" in err


def test_json_report_on_success_and_failure(book: Path) -> None:
    code, _, _ = run("pdf", "--book", "minimal", "-q", "--json", "report.json")
    assert code == 0
    report = json.loads(Path("report.json").read_text())
    assert report["ok"] is True and report["exit_code"] == 0
    assert report["output"].endswith("build/minimal.pdf")
    assert report["pages"] >= 2
    names = [stage["name"] for stage in report["stages"]]
    assert names[:4] == ["assemble", "read", "filters", "latex"] and "xelatex" in names
    append(book, "two.md", "\n\\foo\n")
    code, _, _ = run("pdf", "--book", "minimal", "-q", "--json", "report.json")
    assert code == 1
    report = json.loads(Path("report.json").read_text())
    assert report["ok"] is False and report["exit_code"] == 1
    assert report["errors"][0]["file"] == "minimal/two.md"
    assert report["errors"][0]["line"] == 5
    assert report["errors"][0]["message"] == "Undefined control sequence"


def test_github_annotations_under_actions(book: Path) -> None:
    append(book, "two.md", "\n\\foo\n")
    env = {"CI": "true", "GITHUB_ACTIONS": "true"}
    code, out, _ = run("pdf", "--book", "minimal", "-q", env=env)
    assert code == 1
    assert "::error file=minimal/two.md,line=5::Undefined control sequence" in out.splitlines()
    code, out, _ = run("pdf", "--book", "minimal", "-q", env={"CI": "true"})
    assert "::error" not in out


def test_diagnostic_formats() -> None:
    located = Diagnostic("warning", "50% done", "book/a.md", 3)
    assert located.format() == "book/a.md:3: warning: 50% done"
    assert located.github() == "::warning file=book/a.md,line=3::50%25 done"
    assert Diagnostic("error", "boom").format() == "error: boom"
    assert Diagnostic("error", "boom").github() == "::error::boom"


def test_parse_latex_log_reads_wrapped_messages() -> None:
    log = (
        "./book.tex:97: LaTeX Error: Unicode character ☃ (U+2603)\n"
        "               not set up for use with LaTeX.\n\nSee the LaTeX manual\n"
        "l.97 Snowman ☃\n"
    )
    failure = parse_latex_log(log, "book.tex")
    assert failure is not None
    assert failure.message == (
        "LaTeX Error: Unicode character ☃ (U+2603) not set up for use with LaTeX"
    )
    assert failure.tex_line == 97 and failure.context == "Snowman ☃"


def test_filter_warnings_become_located_diagnostics(book: Path) -> None:
    append(book, "two.md", "\nSee @sec:nowhere for more.\n")
    code, _, err = run("pdf", "--book", "minimal", "--strict")
    assert code == 5
    assert "minimal/two.md: warning: unknown reference @sec:nowhere" in err


def test_overfull_lines_are_reported_with_verbose_only(book: Path) -> None:
    unbreakable = "`" + "x" * 120 + "`"  # code is never hyphenated
    append(book, "two.md", f"\nA line with {unbreakable} in it.\n")
    code, _, err = run("pdf", "--book", "minimal", "-q")
    assert code == 0 and "overfull" not in err
    append(book, "two.md", "\nAnother edit, so LaTeX runs again.\n")
    code, _, err = run("pdf", "--book", "minimal", "-q", "-v")
    assert code == 0
    assert re.search(r"^minimal/two\.md:5: info: overfull line: [\d.]+pt too wide$", err, re.M)


def test_a_crashing_filter_points_at_the_chapter_line_and_its_own_code(book: Path) -> None:
    (book / "filters").mkdir()
    (book / "filters" / "fragile.py").write_text(
        "import panflute as pf\n\n"
        "def action(elem, doc):\n"
        "    if isinstance(elem, pf.Str) and elem.text == 'boom':\n"
        "        raise RuntimeError('cannot handle this word')\n\n"
        "def main(doc=None):\n"
        "    return pf.run_filter(action, doc=doc)\n"
    )
    config = book / "book.yaml"
    config.write_text(config.read_text() + "  filters: [fragile]\n")
    append(book, "two.md", "\nSome text.\n\nIt goes boom here.\n")
    code, _, err = run("pdf", "--book", "minimal", "-q")
    assert code == 1
    assert err.startswith(
        "minimal/two.md:7: error: filter fragile failed: RuntimeError: cannot handle this word ("
    )
    assert "filters/fragile.py:5)" in err.splitlines()[0]


def test_a_label_defined_twice_points_at_the_second_definition(book: Path) -> None:
    append(book, "one.md", "\n## Again {#sec:same}\n")
    append(book, "two.md", "\nText.\n\n## Once more {#sec:same}\n")
    code, _, err = run("pdf", "--book", "minimal", "-q")
    assert code == 1
    first = err.splitlines()[0]
    assert first.startswith("minimal/two.md:7: error: ")
    assert "sec:same" in first and "minimal/one.md" in first


def test_an_abstract_in_a_class_without_one(book: Path) -> None:
    # the book class (as bookdown books name it) has no abstract environment
    config = book / "book.yaml"
    config.write_text(
        config.read_text().replace(
            "  documentclass: report\n",
            "  documentclass: book\n  abstract: Notes on two chapters and a citation.\n",
        )
    )
    code, _, err = run("pdf", "--book", "minimal", "-q")
    assert code == 0, err
    pdf = book.parent / "build" / "minimal.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Abstract" in text and "Notes on two chapters and a citation." in text
