"""`bookbuild check`: each check on a tiny book, the real book, the manuscript's bugs, exits."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bookbuild.books import load_config
from bookbuild.check import check, check_empty_sections, check_raw_latex, load_book
from bookbuild.check.locate import Source, cite_pattern, mask
from bookbuild.cli import cli
from bookbuild.diagnostics import Diagnostic

from .conftest import BOOKS, REPO, SEED


@pytest.fixture(autouse=True)
def _cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # messages name paths relative to the working dir


def write_book(
    root: Path, chapters: dict[str, str], metadata: str = "title: T", bib: str | None = None
) -> Path:
    """A book in ``root/book`` with these chapters (no filters); returns its book.yaml."""
    folder = root / "book"
    folder.mkdir(parents=True)
    for name, text in chapters.items():
        (folder / name).write_text(text)
    if bib is not None:
        (folder / "refs.bib").write_text(bib)
        metadata += "\n  bibliography: refs.bib"
    config = folder / "book.yaml"
    config.write_text(
        f"chapters: [{', '.join(chapters)}]\nmetadata:\n  {metadata}\nbuild:\n  filters: []\n"
    )
    return config


def lines(config: Path) -> list[str]:
    return [d.format() for d in check(config).diagnostics]


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["check", *args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout.splitlines()


# -- helpers -------------------------------------------------------------------------------


def test_mask_blanks_code_comments_and_math_but_keeps_lines() -> None:
    text = "a `\\alpha` b\n<!-- \\x\n-->\n$\\to$ and $$\n\\times\n$$\n```\n\\leq\n```\nend \\to"
    masked = mask(text)
    assert masked.count("\n") == text.count("\n") and len(masked) == len(text)
    assert re.findall(r"\\\w+", masked) == ["\\to"]  # only the one in running text
    assert masked.splitlines()[-1] == "end \\to"


def test_mask_keeps_raw_latex_blocks() -> None:
    assert "\\part" in mask("```{=latex}\n\\part{X}\n```\n")


def test_next_line_hands_out_the_kth_match(tmp_path: Path) -> None:
    source = Source(tmp_path / "a.md", "see @a\n\n`@a` in code\n\nand [@a; @ab]\n")
    pattern = cite_pattern("a")
    assert source.lines_of(pattern) == [1, 5]
    assert [source.next_line(pattern) for _ in range(3)] == [1, 5, 5]
    assert source.next_line(cite_pattern("zz")) is None
    source.reset()
    assert source.next_line(pattern) == 1


def test_diagnostic_formats() -> None:
    diagnostic = Diagnostic("error", "100% wrong", "book/a.md", 3)
    assert diagnostic.format() == "book/a.md:3: error: 100% wrong"
    assert diagnostic.github() == "::error file=book/a.md,line=3::100%25 wrong"
    assert Diagnostic("info", "x", None, None).github() == "::notice::x"
    assert Diagnostic("warning", "w", "a,b.md", 1).github() == "::warning file=a%2Cb.md,line=1::w"


def test_a_check_runs_alone_on_the_loaded_book(tmp_path: Path) -> None:
    config = write_book(tmp_path, {"a.md": "# A\n\nx \\leq y\n"})
    book = load_book(load_config(config))
    assert check_raw_latex(book) == [
        Diagnostic("error", "math command \\leq outside math: write $\\leq$", "book/a.md", 3)
    ]
    assert check_empty_sections(book) == []


# -- one test per check --------------------------------------------------------------------


def test_config_problems_are_errors_and_exit_3(tmp_path: Path) -> None:
    config = write_book(tmp_path, {"a.md": "# A\n\ntext\n"})
    config.write_text(config.read_text().replace("chapters: [a.md]", "chapters: [a.md, b.md]"))
    code, out = run("--book", str(config))
    assert code == 3
    assert out == [
        "book/book.yaml:1: error: chapter 'b.md' not found in book/; did you mean 'a.md'?",
        "check: 1 error, 0 warnings, 0 info",
    ]


BIB = "@book{knuth,\n  title = {T},\n}\n\n@misc{lamport,\n  title = {L},\n}\n"


def test_citations_unknown_key_and_uncited_entry(tmp_path: Path) -> None:
    config = write_book(
        tmp_path, {"a.md": "# A\n\nAs shown [@knuth].\n\nAnd @knut says.\n"}, bib=BIB
    )
    assert lines(config) == [
        "book/a.md:5: error: citation '@knut' not found in book/refs.bib; did you mean '@knuth'?",
        "book/refs.bib:5: info: bibliography entry 'lamport' is never cited",
    ]


def test_citation_in_metadata_and_nocite(tmp_path: Path) -> None:
    config = write_book(
        tmp_path,
        {"a.md": "# A\n\ntext\n"},
        metadata="abstract: 'From [@nobody].'\n  nocite: '@*'",
        bib=BIB,
    )
    assert lines(config) == [
        "book/book.yaml:3: error: citation '@nobody' not found in book/refs.bib"
    ]


def test_citation_keys_from_csl_json_and_inline_references(tmp_path: Path) -> None:
    chapters = {"a.md": "# A\n\n[@json1] [@inline1] [@none]\n"}
    metadata = "references:\n    - id: inline1\n      title: I\n    - id: inline2\n      title: J"
    config = write_book(tmp_path, chapters, metadata=metadata)
    (config.parent / "refs.json").write_text('[\n  {"id": "json1", "title": "J"}\n]\n')
    config.write_text(
        config.read_text().replace("metadata:\n", "metadata:\n  bibliography: refs.json\n")
    )
    assert lines(config) == [
        "book/book.yaml:7: info: bibliography entry 'inline2' is never cited",
        "book/a.md:3: error: citation '@none' not found in book/refs.json",
    ]


def test_citation_without_any_bibliography(tmp_path: Path) -> None:
    config = write_book(tmp_path, {"a.md": "# A\n\nAs @knuth says.\n"})
    assert lines(config) == [
        "book/a.md:3: error: citation '@knuth' but the book has no bibliography"
    ]


def test_footnotes_missing_and_unused(tmp_path: Path) -> None:
    chapters = {
        "notes.md": "[^ucb]: Berkeley\n[^gone]: never used\n",
        "a.md": "# A\n\nText[^a] and[^b].\n\n[^a]: A note.\n\n`[^code]` is not a note.\n\n"
        "[^a]: Again.\n",
    }
    config = write_book(tmp_path, chapters, metadata="author: Zee[^ucb]")
    assert lines(config) == [
        "book/notes.md:2: warning: footnote [^gone] is defined but never used",
        "book/a.md:3: error: footnote [^b] has no definition ([^b]: text)",
        "book/a.md:9: warning: footnote [^a] is defined twice (first at book/a.md:5)",
    ]


def test_crossref_unknown_and_defined_twice(tmp_path: Path) -> None:
    chapters = {
        "a.md": "# A {#sec:a}\n\n$$ x = 1 $$ {#eq:one}\n\n"
        "| a |\n|---|\n| 1 |\n\n: Numbers {#tbl:n}\n",
        "b.md": "# B {#sec:a}\n\nSee @sec:a, [-@eq:one], @Tbl:n and [@fig:plot; @eq:two].\n",
    }
    assert lines(write_book(tmp_path, chapters)) == [
        "book/b.md:1: error: cross-reference label 'sec:a' is defined twice (first at book/a.md:1)",
        "book/b.md:3: error: unknown cross-reference '@fig:plot': no {#fig:plot} in the book",
        "book/b.md:3: error: unknown cross-reference '@eq:two': no {#eq:two} in the book; "
        "did you mean '@eq:one'?",
    ]


def test_quarto_reference_to_a_label_the_book_lacks(tmp_path: Path) -> None:
    # as pdf warns (the reference prints as ??); every form of label the book defines counts
    book = tmp_path / "book"
    book.mkdir()
    (book / "_quarto.yml").write_text(
        "project:\n  type: book\nbook:\n  title: T\n  chapters: [index.qmd, fit.qmd]\n"
    )
    (book / "index.qmd").write_text("# Preface {.unnumbered}\n\nSee @sec-fit and @fig-curve.\n")
    (book / "fit.qmd").write_text(
        "# Fitting {#sec-fit}\n\n```{r}\n#| label: fig-curve\n#| fig-cap: A curve\n"
        "plot(1)\n```\n\nAs @sec-fitting says, see @tbl-coefs.\n"
    )
    assert lines(book / "_quarto.yml") == [
        "book/fit.qmd:9: warning: reference '@sec-fitting': no {#sec-fitting} in the book",
        "book/fit.qmd:9: warning: reference '@tbl-coefs': no {#tbl-coefs} in the book",
    ]


def test_bookdown_reference_to_a_label_the_book_lacks(tmp_path: Path) -> None:
    book = tmp_path / "book"
    book.mkdir()
    (book / "_bookdown.yml").write_text('book_filename: "notes"\n')
    (book / "index.Rmd").write_text("---\ntitle: Notes\n---\n\n# Preface {-}\n\nFor the course.\n")
    (book / "01-tests.Rmd").write_text(
        "# Hypothesis tests\n\n"
        '```{theorem, np, name="Neyman-Pearson"}\nThe likelihood ratio test is best.\n```\n\n'
        '```{r power-curve, fig.cap="Power"}\nplot(power)\n```\n\n'
        "Theorem \\@ref(thm:np), Figure \\@ref(fig:power-curve), Chapter "
        "\\@ref(hypothesis-tests) and Section \\@ref(p-values).\n"
    )
    assert lines(book / "_bookdown.yml") == [
        "book/01-tests.Rmd:11: warning: reference '\\@ref(p-values)': no such label in the book"
    ]


def test_missing_image(tmp_path: Path) -> None:
    chapters = {"a.md": "# A\n\n![Here](here.png)\n\n![Gone](figs/gone.png){#fig:gone}\n"}
    config = write_book(tmp_path, chapters)
    (config.parent / "here.png").write_bytes(b"\x89PNG")
    assert lines(config) == [
        "book/a.md:5: warning: image 'figs/gone.png' not found in book/: a placeholder is printed"
    ]


def test_missing_image_in_raw_html_is_found_as_pdf_finds_it(tmp_path: Path) -> None:
    chapters = {"a.md": '# A\n\n<p align="center"><img src="figs/map.png" width="300"></p>\n'}
    config = write_book(tmp_path, chapters)
    config.write_text(config.read_text().replace("filters: []", "filters: [html]"))
    assert lines(config) == [
        "book/a.md:3: warning: image 'figs/map.png' not found in book/: a placeholder is printed"
    ]


def test_a_layout_draft_page_is_not_an_empty_section() -> None:
    """mdbook-ferris lists two drafts (``[Hello, Cargo!]()``, ``[Async, Await and
    Futures]()``): no text yet, as its author means. They were reported as empty sections
    at the next file's headings ("## Setting up a new project", "# Contributors")."""
    book = load_book(load_config(BOOKS / "mdbook-ferris" / "book.toml"))
    assert check_empty_sections(book) == []


def test_link_to_missing_heading_id(tmp_path: Path) -> None:
    chapters = {
        "a.md": "# First Steps\n\nSee [steps](#first-steps).\n",
        "b.md": "# B\n\nSee [there](#first-step) and [web](https://x.org/#top).\n",
    }
    assert lines(write_book(tmp_path, chapters)) == [
        "book/b.md:3: warning: link to '#first-step': no heading has that id; "
        "did you mean '#first-steps'?"
    ]


def test_math_command_outside_math(tmp_path: Path) -> None:
    text = "# A\n\nFine: $a \\rightarrow b$, \\copyright.\n\nBad: a\\rightarrow b, 2 \\times 3.\n"
    assert lines(write_book(tmp_path, {"a.md": text})) == [
        "book/a.md:5: error: math command \\rightarrow outside math: write $\\rightarrow$",
        "book/a.md:5: error: math command \\times outside math: write $\\times$",
    ]


def test_stray_brace_after_link(tmp_path: Path) -> None:
    text = "# A\n\nIn the [book repository](https://github.com/x/y).}\n"
    assert lines(write_book(tmp_path, {"a.md": text})) == [
        "book/a.md:3: warning: stray '}' after the link to https://github.com/x/y "
        "(printed as a brace); remove it"
    ]


def test_raw_part_and_chapter(tmp_path: Path) -> None:
    text = "\\part{Overview}\n\\cleardoublepage\n\nIntro.\n\n\\chapter{Jobs}\n\nText.\n"
    assert lines(write_book(tmp_path, {"a.md": text})) == [
        "book/a.md:1: warning: raw \\part in the text: use a heading, # Overview {.part}",
        "book/a.md:6: warning: raw \\chapter in the text: use a heading, # Jobs",
    ]


def test_unbalanced_braces_in_raw_latex(tmp_path: Path) -> None:
    text = "# A\n\nText.\n\n```{=latex}\n\\begin{center}{\\large\n\\end{center}\n```\n"
    assert lines(write_book(tmp_path, {"a.md": text})) == [
        "book/a.md:6: error: unbalanced braces in raw LaTeX (1 '{' never closed): "
        "\\begin{center}{\\large"
    ]


def test_list_indented_too_little_under_numbered_item(tmp_path: Path) -> None:
    text = (
        "# A\n\n1. Scoping\n  - goals\n  - skills\n    - deep\n2. Data\n   - nested fine\n"
        "10. Ten\n   - three is too few here\n"
    )
    assert lines(write_book(tmp_path, {"a.md": text})) == [
        "book/a.md:4: warning: list item indented 2 spaces does not nest under '1. Scoping' "
        "(line 3); pandoc ends the numbered list here: indent it 3 spaces",
        "book/a.md:10: warning: list item indented 3 spaces does not nest under '10. Ten' "
        "(line 9); pandoc ends the numbered list here: indent it 4 spaces",
    ]


def test_empty_sections_are_info(tmp_path: Path) -> None:
    chapters = {
        "p.md": "# Overview {.part}\n",
        "a.md": "<!-- notes -->\n\n# A\n\n## Full\n\nText.\n\n## Empty\n\n<!-- todo -->\n\n"
        "### Also empty\n\nSetext Too\n----------\n\n## Last\n",
    }
    assert lines(write_book(tmp_path, chapters)) == [
        "book/a.md:13: info: empty section: ### Also empty",
        "book/a.md:15: info: empty section: ## Setext Too",
        "book/a.md:18: info: empty section: ## Last",
    ]
    # "## Empty" holds a subsection, so it is not empty itself; the part page needs no text.


# -- the real book and the manuscript's bugs -----------------------------------------------


def empty_headings(folder: Path, chapters: list[str]) -> int:
    """Headings whose next non-blank, non-comment line is a heading of the same or a higher
    level, or the chapter's end; not parts, not the book's last heading (the references)."""
    count = 0
    for name in chapters:
        text = re.sub(r"<!--.*?-->", "", (folder / name).read_text(), flags=re.S)
        rows = [line for line in text.splitlines() if line.strip()]
        for index, line in enumerate(rows):
            level = len(line) - len(line.lstrip("#"))
            if not level or "{.part}" in line or (name == chapters[-1] and index == len(rows) - 1):
                continue
            after = rows[index + 1] if index + 1 < len(rows) else "#"
            after_level = len(after) - len(after.lstrip("#"))
            count += 0 < after_level <= level
    return count


def book_chapters(config: Path) -> list[str]:
    import yaml

    return list(yaml.safe_load(config.read_text())["chapters"])


def test_real_book_has_no_errors_or_warnings(real_book: Path) -> None:
    report = check(real_book)
    assert [d.format() for d in report.diagnostics if d.severity != "info"] == []
    expected = empty_headings(real_book.parent, book_chapters(real_book))
    assert expected > 40  # the question chapters' sections are still mostly empty
    assert report.count("info") == expected
    assert all(d.message.startswith("empty section: #") for d in report.diagnostics)
    assert report.summary() == f"check: 0 errors, 0 warnings, {expected} info"


def seed_lines(start: str, count: int) -> list[str]:
    rows = SEED.read_text().splitlines()
    first = next(i for i, line in enumerate(rows) if line.startswith(start))
    return rows[first : first + count]


@pytest.mark.skipif(not SEED.is_file(), reason="manuscript not beside the repo")
def test_real_book_with_the_manuscripts_bugs(real_book: Path) -> None:
    """The three markup bugs the editor fixed, put back from the manuscript, each reported at
    the chapter file and line where it now sits."""
    jobs = real_book.parent / "ml-jobs.md"
    rows = jobs.read_text().splitlines()
    lyft = next(i for i, line in enumerate(rows) if "Lyft renamed" in line)
    rows[lyft] = seed_lines("  - Lyft renamed", 1)[0]
    scoping = rows.index("1. Project Scoping")
    rows[scoping : scoping + 48] = seed_lines("1. Project Scoping", 48)
    jobs.write_text("\n".join(rows) + "\n")
    questions = real_book.parent / "part-questions.md"
    questions.write_text(
        questions.read_text().replace("ml-interviews-book).", "ml-interviews-book).}")
    )

    found = [d.format() for d in check(real_book).diagnostics if d.severity != "info"]
    assert found[:2] == [
        "book/ml-jobs.md:101: warning: list item indented 2 spaces does not nest under "
        "'1. Project Scoping' (line 100); pandoc ends the numbered list here: indent it 3 spaces",
        "book/ml-jobs.md:111: warning: list item indented 2 spaces does not nest under "
        "'2. Data Management' (line 110); pandoc ends the numbered list here: indent it 3 spaces",
    ]
    assert [line.split(": warning")[0] for line in found[2:6]] == [
        f"book/ml-jobs.md:{n}" for n in (119, 128, 134, 141)
    ]
    arrow = f"book/ml-jobs.md:{lyft + 1}: error: math command \\rightarrow outside math: write "
    assert found[6:] == [
        arrow + "$\\rightarrow$",
        arrow + "$\\rightarrow$",
        "book/part-questions.md:7: warning: stray '}' after the link to "
        "https://github.com/chiphuyen/ml-interviews-book (printed as a brace); remove it",
    ]


# -- exit codes, strict, no LaTeX, speed ---------------------------------------------------


def test_exit_codes_and_strict(tmp_path: Path) -> None:
    config = write_book(tmp_path, {"a.md": "# A\n\nSee [x](#nowhere).\n\n## Todo\n"})
    assert run("--book", str(config)) == (
        0,
        [
            "book/a.md:3: warning: link to '#nowhere': no heading has that id",
            "book/a.md:5: info: empty section: ## Todo",
            "check: 0 errors, 1 warning, 1 info",
        ],
    )
    code, out = run("--book", str(config), "--strict")
    assert (code, out[-1]) == (5, "check: 0 errors, 1 warning, 1 info (--strict: warnings fail)")
    (config.parent / "a.md").write_text("# A\n\nBad\\alpha.\n\nSee [x](#nowhere).\n")
    code, out = run("--book", str(config), "--strict")
    assert (code, out[-1]) == (1, "check: 1 error, 1 warning, 0 info (--strict: warnings fail)")


def test_info_never_fails_even_strict(tmp_path: Path) -> None:
    config = write_book(tmp_path, {"a.md": "# A\n\n## Empty\n"})
    assert run("--book", str(config), "--strict")[0] == 0


def test_unreadable_chapter_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    config = write_book(tmp_path, {"a.md": "# A\n"})
    (config.parent / "a.md").write_bytes(b"# A\n\ncaf\xe9\n")
    assert run("--book", str(config)) == (
        1,
        [
            "book/a.md:3: error: not UTF-8 text (byte 0xe9); save the chapter as UTF-8",
            "check: 1 error, 0 warnings, 0 info",
        ],
    )


def test_check_never_runs_latex(
    real_book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for tool in ("latexmk", "xelatex", "pdflatex", "lualatex", "tectonic"):
        script = fake_bin / tool
        script.write_text(f"#!/bin/sh\ntouch {tmp_path}/ran-{tool}\nexit 1\n")
        script.chmod(0o755)

    def no_engine(*args: object, **kwargs: object) -> None:
        raise AssertionError("check ran the LaTeX engine")

    monkeypatch.setattr("bookbuild.stages.compile.run_engine", no_engine)
    pandoc_dir = Path(shutil.which("pandoc") or "/usr/bin/pandoc").parent  # pypandoc-binary's
    path = f"{fake_bin}:{pandoc_dir}:/usr/bin:/bin"  # the fake engines come first
    code, out = run("--book", str(real_book), env={"PATH": path})
    assert code == 0 and out[-1].startswith("check: 0 errors, 0 warnings")
    assert list(tmp_path.glob("ran-*")) == []
    assert not (tmp_path / "build").exists()


def test_check_is_fast_on_the_real_book(real_book: Path) -> None:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bookbuild.cli", "check", "--book", str(real_book)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert seconds < 2.0


def test_check_is_in_help_and_readme() -> None:
    result = CliRunner().invoke(cli, ["check", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output
    assert "bookbuild check" in (REPO / "README.md").read_text()
